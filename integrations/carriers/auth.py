"""Authentication pieces carrier tracking clients share.

- ``TokenCache``: a bearer token kept in Django's cache, so every worker
  uses the same token until shortly before it expires instead of buying one
  per call (carriers count token requests against the same quota).
- ``fetch_bearer_token``: send an OAuth 2.0 token request (client
  credentials, refresh token, password: the caller builds it) and cache
  the ``access_token`` it answers with.
- ``basic_auth`` and ``is_sandbox``: the two small things every client
  reads from its connection's credentials."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import httpx
from django.core.cache import cache

from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

# Renew this long before the carrier says the token expires: a token that
# dies between our check and the carrier's is a wasted call and a retry.
EXPIRY_MARGIN = 60
TRUE_WORDS = {"1", "true", "yes", "on", "sandbox", "test"}

SANDBOX_FIELD = CredentialField(
    "sandbox",
    "Sandbox",
    "Type yes to use the carrier's test environment instead of production",
    required=False,
)


def is_sandbox(credentials: dict) -> bool:
    """The connect form stores text: "yes", "true" and "1" all mean the test environment."""
    value = credentials.get("sandbox")
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class TokenCache:
    """One bearer token per carrier environment and account, shared by all workers."""

    def __init__(self, carrier: str, *identity: str) -> None:
        # The identity (token URL, client id) is hashed: keys must not carry credentials.
        digest = hashlib.sha256("|".join(identity).encode()).hexdigest()[:24]
        self.key = f"carriers:{carrier}:token:{digest}"

    def get(self) -> str | None:
        return cache.get(self.key)

    def set(self, token: str, lifetime: float) -> None:
        cache.set(self.key, token, timeout=max(60, int(lifetime) - EXPIRY_MARGIN))

    def forget(self) -> None:
        cache.delete(self.key)


def fetch_bearer_token(
    client: HttpClient,
    tokens: TokenCache,
    build_request: Callable[[], httpx.Request],
    *,
    name: str,
    fresh: bool = False,
    default_lifetime: float = 3600,
) -> str:
    """The cached token, or a new one from the carrier's token endpoint.

    A 400/401/403 from the token endpoint means the credentials are wrong
    (OAuth answers ``invalid_client`` / ``invalid_grant`` with 400 or 401):
    PermanentError with the carrier's own words."""
    if not fresh:
        cached = tokens.get()
        if cached:
            return cached
    response = client.send(build_request())
    if response.status_code in (400, 401, 403):
        raise PermanentError(
            f"{name} refused the credentials ({response.status_code}): {error_message(response)}"
        )
    try:
        body = response.json()
        token = body["access_token"]
        # Some carriers send expires_in as a string of seconds.
        lifetime = float(body.get("expires_in") or default_lifetime)
    except (ValueError, KeyError, TypeError):
        raise TransientError(f"{name} token response unreadable ({response.status_code})") from None
    tokens.set(token, lifetime)
    return token


def error_message(response: httpx.Response) -> str:
    """The carrier's own explanation from a JSON error body, whatever its dialect."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    # OAuth (RFC 6749): {"error": "invalid_client", "error_description": "..."}
    if body.get("error_description"):
        return str(body["error_description"])
    error = body.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return "; ".join(str(e.get("message") or e.get("detail") or "") for e in errors)
    for key in ("detail", "message", "title", "Message"):
        if body.get(key):
            return str(body[key])
    if isinstance(error, str):
        return error
    return response.reason_phrase


class BearerTokenClient(HttpClient):
    """A carrier whose Track API takes a bearer token bought from its token
    endpoint: the token is shared by all workers (``tokens``), asked for afresh
    once when the carrier refuses it, and a second refusal is PermanentError.
    A subclass says how to buy the token (``token``) and how to track (``_track``)."""

    #: How the carrier is named in messages, and how we sign in to it.
    display_name = ""
    sign_in = "OAuth client credentials"
    #: Answers meaning "this token is no good (any more)".
    refused_token_statuses: tuple[int, ...] = (401,)

    @property
    def tokens(self) -> TokenCache:
        return TokenCache(self.carrier, self.base, self.credentials.get("client_id", ""))

    def token(self, *, fresh: bool = False) -> str:
        raise NotImplementedError

    def _track(self, number: str, token: str) -> httpx.Response:
        raise NotImplementedError

    def check(self) -> str:
        self.token(fresh=True)
        return f"Signed in to {self.display_name} ({self.sign_in})."

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        number = tracking_number.strip()
        response = self._track(number, self.token())
        if response.status_code in self.refused_token_statuses:
            # Revoked or expired before our cache thought so: one fresh token.
            response = self._track(number, self.token(fresh=True))
        if response.status_code in (401, 403):
            raise PermanentError(
                f"{self.display_name} refuses our token: {error_message(response)}"
            )
        return self.parse(response)
