"""Salesforce B2C Commerce Cloud. It sends no webhooks of its own (B2C
Commerce has no native outbound webhooks; stores that want them build a
job or a hook cartridge), so the connection declares none and orders are
read from the admin Orders API when the desk needs them."""

from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.providers import CredentialField, ProviderSpec


def check_sfcc(connection) -> str:
    """Ask Account Manager for a token with the orders scope: proves the API
    client, its secret and its access to this organization, and reads nothing."""
    from integrations.commerce import ExecutionError
    from integrations.sfcc.client import SfccClient

    try:
        client = SfccClient.for_credentials(connection.credentials)
        client.token(fresh=True)
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    return f"Account Manager granted orders access to {client.organization_id} ({client.site_id})."


PROVIDERS = (
    ProviderSpec(
        code="sfcc",
        name="Salesforce Commerce Cloud",
        kind="commerce",
        fields=(
            CredentialField("short_code", "Short code", "The instance's SCAPI short code"),
            CredentialField("organization_id", "Organization id", "f_ecom_abcd_prd"),
            CredentialField("site_id", "Site id", "RefArch"),
            CredentialField("client_id", "API client id", "From Account Manager"),
            CredentialField("client_secret", "API client secret", secret=True),
        ),
        check=check_sfcc,
        adapter="integrations.sfcc.adapter.SfccAdapter",
        notes="No native outbound webhooks: orders are read on demand.",
    ),
)
