# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint format check-deploy clean stop

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

$(STAMP): requirements.lock $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python -m desk.run

test: install
	DEBUG=$${DEBUG:-1} $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	DEBUG=$${DEBUG:-1} $(BIN)/python -m bench $(NAME)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production settings must pass Django's deployment checks.
check-deploy: install
	DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-secret-0123456789abcdefghij \
	ENCRYPTION_KEY=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	ALLOWED_HOSTS=desk.example.com DATABASE_URL=postgres://db.internal/desk REDIS_URL=redis://cache.internal:6379/0 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# Refresh the lock file after editing pyproject.toml.
lock: $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev -o requirements.lock

stop:
	-$(BIN)/python -c "from desk import embedded; embedded.stop(embedded.Started('', '', True, True))"

clean: stop
	rm -rf var $(VENV)
