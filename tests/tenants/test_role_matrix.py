"""The role × permission matrix is written twice for readers (docs/security.md
and the roles module's docstring) and once for the code (``GRANTS``). These
tests parse both tables so neither can drift from what the code enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenants import roles
from tenants.roles import GRANTS, Permission, Role

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def parse_matrix(text: str) -> dict[str, set[str]]:
    """Read the first Markdown table whose header starts with ``permission``
    into {role: {permission, ...}}. Role columns are named like the roles with
    spaces for underscores; a cell with ✓ grants, an empty cell does not."""
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    header_at = next(i for i, row in enumerate(rows) if _cells(row)[0].lower() == "permission")
    columns = [c.lower().replace(" ", "_") for c in _cells(rows[header_at])[1:]]
    granted: dict[str, set[str]] = {column: set() for column in columns}
    for row in rows[header_at + 2 :]:  # skip the |---| line
        cells = _cells(row)
        # "`contact.view` — inbox, …" or "contact.view": the code is the first word.
        permission = cells[0].split()[0].strip("`")
        for column, cell in zip(columns, cells[1:], strict=True):
            if cell == "✓":
                granted[column].add(permission)
            else:
                assert cell == "", f"unexpected cell {cell!r} for {permission} / {column}"
    return granted


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _code_matrix() -> dict[str, set[str]]:
    return {str(role): {str(p) for p in GRANTS[role]} for role in Role}


def test_every_role_has_an_entry_in_the_grants():
    assert set(GRANTS) == set(Role)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda: SECURITY_DOC.read_text(), id="docs/security.md"),
        pytest.param(lambda: roles.__doc__, id="tenants/roles.py docstring"),
    ],
)
def test_documented_matrix_matches_the_grants(source):
    documented = parse_matrix(source())
    assert set(documented) == set(Role.values), "one column per role, no more, no less"
    mentioned = set().union(*documented.values())
    assert mentioned <= set(Permission.values), "the table names a permission the code lacks"
    assert documented == _code_matrix()


def test_the_parser_notices_a_drifted_cell():
    """The check above can fail: a ✓ moved in the table is caught."""
    text = SECURITY_DOC.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `tenant.manage`"))
    # The lead (second column) gains tenant.manage.
    drifted = text.replace(row, "| `tenant.manage` — onboarding | | ✓ | ✓ | | ✓ |")
    assert drifted != SECURITY_DOC.read_text()
    assert parse_matrix(drifted) != _code_matrix()
