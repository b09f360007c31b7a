"""Carrier connections, one per carrier we have a tracking client for.

A carrier becomes connectable when ``integrations/carriers/<carrier>/client.py``
names its client class ``CLIENT``; it takes pushed updates when
``webhook.py`` beside it names a ``WEBHOOK`` (an ``integrations.webhooks.WebhookProvider``),
with the credentials the webhook needs (its signing secret) in ``WEBHOOK_FIELDS``."""

from __future__ import annotations

from collections.abc import Callable

from integrations.carriers import registry
from integrations.carriers.client import ClientError
from integrations.providers import ProviderSpec, _module_if_present


def _check(client_class) -> Callable:
    def check(connection) -> str:
        from integrations.connection_checks import CheckFailed

        client = client_class.for_connection(connection)
        try:
            return client.check()
        except ClientError as exc:
            raise CheckFailed(str(exc)) from exc
        finally:
            client.close()

    return check


def _webhook_check(name: str, fields: tuple) -> Callable:
    """'Test connection' for a carrier we only hear from by push: there is no API
    to call, so say where pushes go and whether their secret is set."""

    def check(connection) -> str:
        from integrations.connection_checks import CheckFailed

        if fields and not connection.webhook_secret:
            raise CheckFailed(f"{name} pushes cannot be verified: no signing secret is set.")
        return f"{name} pushes are taken at /webhooks/{connection.provider}/{connection.public_id}."

    return check


def _specs() -> tuple[ProviderSpec, ...]:
    specs, seen = [], set()
    for carrier in registry.CARRIERS:
        package = f"integrations.carriers.{carrier.module or carrier.code}"
        if package in seen:
            # A carrier sharing another's package (Colissimo on La Poste's) is
            # connected through that carrier.
            continue
        seen.add(package)
        client = _module_if_present(f"{package}.client")
        hook = _module_if_present(f"{package}.webhook")
        client_class = getattr(client, "CLIENT", None)
        webhook = getattr(hook, "WEBHOOK", None)
        if client_class is None and webhook is None:
            continue
        webhook_fields = tuple(getattr(hook, "WEBHOOK_FIELDS", ()))
        specs.append(
            ProviderSpec(
                code=carrier.code,
                name=carrier.name,
                kind="carrier",
                fields=(client_class.credential_fields if client_class else ()) + webhook_fields,
                check=(
                    _check(client_class)
                    if client_class
                    else _webhook_check(carrier.name, webhook_fields)
                ),
                tracking_client=(
                    f"{client_class.__module__}.{client_class.__qualname__}" if client_class else ""
                ),
                webhook=webhook,
            )
        )
    return tuple(specs)


PROVIDERS = _specs()
