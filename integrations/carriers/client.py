"""Tracking clients: what the poller calls to fetch one shipment's tracking.

A client asks one provider (a carrier's own API, or an aggregator that
tracks many carriers) about one tracking number and returns the answer in
our schema, through the same mapping ``track_parse`` uses. Not-found and
carrier-error answers are results, never exceptions; exceptions are for
calls that did not get an answer:

- ``TransientError``: rate limited, a 5xx, a timeout or a network error.
  The shipment is simply asked again later.
- ``PermanentError``: the provider refuses our credentials or the
  connection is misconfigured. Retrying will not help until a person fixes
  the connection.

Every client shares its provider's rate limit with all workers through a
Redis bucket per connection (``integrations.ratelimit``), so a fleet of
workers stays inside what the provider allows."""

from __future__ import annotations

import time
from typing import ClassVar, Protocol

import httpx

from integrations.carriers import registry
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField
from integrations.ratelimit import RateLimited, SharedBucket

# A well-formed number that no real parcel carries, for connection checks.
CHECK_NUMBER = "TESTCONNECTION000"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "postpurchase-desk/1 (+tracking)"


class ClientError(Exception):
    permanent = False


class TransientError(ClientError):
    """No answer this time; the same call may well succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ClientError):
    """The provider refuses the connection's credentials or configuration."""

    permanent = True


class TrackingClient(Protocol):
    """What the poller needs from a provider."""

    #: The registry code whose mapping reads this provider's responses.
    carrier: str

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        """Fetch one tracking number. ``carrier`` is our code for the shipment's
        carrier, which aggregators need to pick the right courier."""
        ...


class HttpClient:
    """HTTP plumbing shared by the provider clients: rate limit, errors, parsing.

    A carrier's ``client.py`` subclasses this and names its class ``CLIENT``;
    that alone makes the carrier connectable (see ``integrations.carriers.provider``)."""

    carrier = ""
    #: What the connect form asks for; kept encrypted in the connection's credentials.
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    #: The provider's documented ceiling, as requests per second per account.
    requests_per_second = 5.0
    #: How long a worker may wait for its turn before giving the shipment back.
    max_wait = 10.0

    def __init__(
        self,
        credentials: dict,
        *,
        account: str = "",
        http: httpx.Client | None = None,
        bucket: SharedBucket | None = None,
    ) -> None:
        self.credentials = credentials
        self.http = http or httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})
        self.bucket = bucket or SharedBucket(
            f"carrier:{self.carrier}:{account or 'default'}",
            # At least one whole call, or a carrier allowing fewer than one
            # a second could never be asked at all.
            capacity=max(1.0, self.requests_per_second),
            restore_rate=self.requests_per_second,
        )

    @classmethod
    def for_connection(cls, connection) -> HttpClient:
        return cls(connection.credentials or {}, account=str(connection.pk))

    def close(self) -> None:
        self.http.close()

    def check(self) -> str:
        """'Test connection': one read-only call proving the credentials work.

        By default, ask about a number no parcel has: any answer in the
        carrier's own format (not found included) means we were let in."""
        result = self.track(CHECK_NUMBER)
        return f"Reached {registry.get(self.carrier).name}: asked about a test number, {result.outcome}."

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send within the rate limit; 429, 5xx and network failures raise TransientError."""
        try:
            wait = self.bucket.reserve(1, max_wait=self.max_wait)
        except RateLimited as exc:
            raise TransientError(str(exc), retry_after=exc.wait) from None
        if wait:
            time.sleep(wait)
        try:
            response = self.http.send(request)
        except httpx.TransportError as exc:
            raise TransientError(f"{self.carrier}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 and self.is_answer(response):
            return response
        if response.status_code == 429:
            raise TransientError(
                f"{self.carrier}: rate limited (429)", retry_after=_retry_after(response)
            )
        if response.status_code >= 500:
            raise TransientError(f"{self.carrier}: server error {response.status_code}")
        return response

    def is_answer(self, response: httpx.Response) -> bool:
        """Whether a 5xx is the carrier's considered answer rather than an outage.

        SOAP 1.1 services send every fault (a refused login, an unknown
        parcel) as HTTP 500; their clients say so here, and read the fault."""
        return False

    def parse(self, response: httpx.Response) -> TrackingResult:
        # 4xx bodies are in the provider's own error format; the mapping turns
        # them into not-found / error results like any other response.
        return registry.parse(self.carrier, response.content)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def client_for_connection(connection) -> TrackingClient:
    """The client for a tenant's carrier connection (provider = a carrier's code)."""
    from integrations import providers

    spec = providers.find(connection.provider)
    if spec is None or not spec.tracking_client:
        raise PermanentError(f"no tracking client for provider {connection.provider!r}")
    return spec.tracking_client_class().for_connection(connection)
