"""Salesforce B2C Commerce (SFCC) admin Orders API (SCAPI) over HTTP, and nothing else.

Authentication: an API client registered in Account Manager gets a token
by the OAuth 2.0 client-credentials grant (``POST
https://account.demandware.com/dwsso/oauth2/access_token``, the client id
and secret as HTTP Basic, ``scope=SALESFORCE_COMMERCE_API:<tenant>
sfcc.orders.rw``). The token is shared by every worker through the cache
until shortly before ``expires_in`` runs out.

Calls go to ``https://<shortCode>.api.commercecloud.salesforce.com/
checkout/orders/v1/organizations/<organizationId>/orders/<orderNo>?siteId=``.
Errors are ``application/problem+json`` (``type``, ``title``, ``detail``, or
``message`` with ``arguments``); 429 answers are retried after
``Retry-After``, 5xx with backoff, every call first taking a slot in the
organization's shared bucket (``integrations.ratelimit``).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from django.core.cache import cache

from integrations.commerce import ExecutionError
from integrations.http import PacedClient, error_text
from integrations.ratelimit import SharedBucket

TOKEN_URL = "https://account.demandware.com/dwsso/oauth2/access_token"  # noqa: S105
API = "https://{short_code}.api.commercecloud.salesforce.com/checkout/orders/v1"
SCOPE = "sfcc.orders.rw"
BUCKET_CAPACITY = 20.0
BUCKET_RATE = 8.0
ORGANIZATION = re.compile(r"^f_ecom_([a-z0-9]{4}_[a-z0-9]+)$")


class SfccError(ExecutionError):
    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status


def problem_message(response: httpx.Response) -> str:
    return error_text(response, _problem_words, limit=300)


def _problem_words(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)[:300]
    text = body.get("detail") or body.get("message") or body.get("error_description")
    text = text or body.get("title") or body.get("error") or "no message"
    kind = str(body.get("type") or "").rsplit("/", 1)[-1]
    return f"{text} ({kind})" if kind and kind not in text else str(text)


class SfccClient(PacedClient):
    """One organization and site; pacing and backoff as every client's (``integrations.http``)."""

    platform = "SFCC"
    error_class = SfccError
    queue_message = "{platform} rate limit: queued work needs {wait:.0f}s more"
    # A 429 with Retry-After holds back every worker on the organization.
    hold_rate = BUCKET_RATE
    read_timeout = 20.0

    def __init__(
        self,
        short_code: str,
        organization_id: str,
        site_id: str,
        client_id: str,
        client_secret: str,
        *,
        bucket: SharedBucket | None = None,
        **pacing: Any,
    ) -> None:
        match = ORGANIZATION.match(organization_id)
        if not match:
            raise ExecutionError(
                f"{organization_id!r} is not an organization id (f_ecom_<realm>_<instance>)",
                permanent=True,
            )
        self.tenant_id = match.group(1)
        self.short_code = short_code
        self.organization_id = organization_id
        self.site_id = site_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.base = API.format(short_code=short_code) + f"/organizations/{organization_id}"
        super().__init__(
            bucket
            or SharedBucket(
                f"sfcc:{organization_id}", capacity=BUCKET_CAPACITY, restore_rate=BUCKET_RATE
            ),
            **pacing,
        )

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> SfccClient:
        values = {
            name: str(credentials.get(name, "")).strip()
            for name in ("short_code", "organization_id", "site_id", "client_id", "client_secret")
        }
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ExecutionError(f"The SFCC connection has no {', '.join(missing)}", permanent=True)
        return cls(**values, **kwargs)

    # --- token -------------------------------------------------------------

    @property
    def _token_key(self) -> str:
        return f"sfcc-token:{self.client_id}:{self.tenant_id}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._token_key)
            if cached:
                return cached
        try:
            response = self.http.post(
                TOKEN_URL,
                data={
                    "grant_type": "client_credentials",
                    "scope": f"SALESFORCE_COMMERCE_API:{self.tenant_id} {SCOPE}",
                },
                auth=(self.client_id, self.client_secret),
            )
        except httpx.TransportError as exc:
            raise SfccError(f"Account Manager unreachable: {exc}", permanent=False) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SfccError(f"Account Manager answered {response.status_code}", permanent=False)
        if response.status_code != 200:
            raise SfccError(
                f"Account Manager refused the API client: {problem_message(response)}",
                permanent=True,
                status=response.status_code,
            )
        body = response.json()
        token = body["access_token"]
        lifetime = int(body.get("expires_in") or 1799)
        cache.set(self._token_key, token, max(lifetime - 60, 30))
        return token

    # --- transport -------------------------------------------------------

    def request(
        self, method: str, path: str, *, json: Any = None, retry_unsure: bool = True
    ) -> Any:
        url = f"{self.base}/{path.lstrip('/')}"
        deadline = self.clock() + self.budget
        attempt = 0
        refreshed = False
        while True:
            self._wait_for_turn(deadline)
            try:
                response = self.http.request(
                    method,
                    url,
                    params={"siteId": self.site_id},
                    json=json,
                    headers={"Authorization": f"Bearer {self.token()}"},
                )
            except httpx.TransportError as exc:
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue
            status = response.status_code
            if status == 401 and not refreshed:
                # The cached token expired early or was revoked: one fresh try.
                refreshed = True
                self.token(fresh=True)
                continue
            if status == 429 or status >= 500:
                if status >= 500 and not retry_unsure:
                    raise SfccError(f"SFCC answered {status}", permanent=False, status=status)
                attempt = self._backoff(
                    attempt, deadline, f"SFCC answered {status}", response.headers
                )
                continue
            if status >= 400:
                raise SfccError(
                    f"SFCC answered {status}: {problem_message(response)}",
                    permanent=True,
                    status=status,
                )
            if status == 204 or not response.content:
                return None
            return response.json()

    # --- operations ------------------------------------------------------

    def order(self, order_no: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"orders/{order_no}")
        except SfccError as exc:
            if exc.status == 404:
                return None
            raise

    def update_status(self, order_no: str, status: str) -> None:
        # Setting the status it already has is harmless, so a retry is safe.
        self.request("PUT", f"orders/{order_no}/status", json={"status": status})

    def update_shipping_address(
        self, order_no: str, shipment_id: str, address: dict[str, Any]
    ) -> None:
        self.request(
            "PUT", f"orders/{order_no}/shipments/{shipment_id}/shipping-address", json=address
        )
