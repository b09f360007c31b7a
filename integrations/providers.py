"""Every provider a tenant can connect, each described once, next to its code.

An integration package declares its providers in a ``provider.py`` module
(``PROVIDERS = (ProviderSpec(...), ...)``): the kind of connection, the
credentials the connect form asks for, how "test connection" reaches it, its
webhook scheme and the class that acts on it. Carrier tracking clients are
found the same way, from ``integrations/carriers/<carrier>/client.py``
(``CLIENT = ...``) and ``webhook.py`` (``WEBHOOK = ...``). This module collects
the declarations, so adding a provider edits no shared list."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from integrations.models import Connection
    from integrations.webhooks import WebhookProvider


@dataclass(frozen=True)
class CredentialField:
    """One value the connect form asks for; kept encrypted in ``Connection.credentials``."""

    name: str
    label: str = ""
    help: str = ""
    secret: bool = False
    required: bool = True
    email: bool = False
    # The key it is kept under when it differs from the form field's name.
    stored_as: str = ""

    @property
    def key(self) -> str:
        return self.stored_as or self.name


@dataclass(frozen=True)
class ProviderSpec:
    code: str
    name: str
    kind: str  # a Connection.Kind value
    fields: tuple[CredentialField, ...] = ()
    # "Test connection": one read-only call; returns a sentence saying what it
    # reached, raises connection_checks.CheckFailed saying why not.
    check: Callable[[Connection], str] | None = None
    webhook: WebhookProvider | None = None
    adapter: str = ""  # dotted path of the CommerceAdapter subclass
    tracking_client: str = ""  # dotted path of the carrier tracking client class
    # Checks across fields the form cannot express: {field name: error}.
    validate: Callable[[dict[str, Any]], dict[str, str]] | None = None
    notes: str = field(default="", compare=False)

    def adapter_class(self) -> type:
        return import_string(self.adapter)

    def tracking_client_class(self) -> type:
        return import_string(self.tracking_client)


class UnknownProvider(LookupError):
    pass


def _module_if_present(name: str):
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name) if found else None


def _declared() -> list[ProviderSpec]:
    import integrations

    specs: list[ProviderSpec] = []
    for info in pkgutil.iter_modules(integrations.__path__):
        if info.ispkg:
            module = _module_if_present(f"integrations.{info.name}.provider")
            if module is not None:
                specs.extend(module.PROVIDERS)
    return specs


@cache
def catalogue() -> dict[str, ProviderSpec]:
    specs: dict[str, ProviderSpec] = {}
    for spec in _declared():
        if spec.code in specs:
            raise RuntimeError(f"provider {spec.code!r} is declared twice")
        specs[spec.code] = spec
    return specs


def get(code: str) -> ProviderSpec:
    try:
        return catalogue()[code]
    except KeyError:
        raise UnknownProvider(f"unknown provider {code!r}") from None


def find(code: str) -> ProviderSpec | None:
    return catalogue().get(code)


def choices() -> list[tuple[str, str]]:
    """(code, name) for the connect form: grouped by kind, then by name."""
    order = {"commerce": 0, "cx": 1, "carrier": 2, "messaging": 3}
    specs = sorted(catalogue().values(), key=lambda s: (order.get(s.kind, 9), s.name.lower()))
    return [(s.code, s.name) for s in specs]


def tracking_client_codes() -> frozenset[str]:
    return frozenset(code for code, spec in catalogue().items() if spec.tracking_client)


def webhook(code: str) -> WebhookProvider | None:
    spec = catalogue().get(code)
    return spec.webhook if spec else None
