"""DHL Express MyDHL API tracking over HTTP, and nothing else.

Authentication is HTTP Basic with the MyDHL API username and password DHL
Express issues to the customer account. Tracking is
``GET /tracking?shipmentTrackingNumber=…`` with every checkpoint asked for
(``trackingView=all-checkpoints``, ``levelOfDetail=all``); each call carries
the ``Message-Reference`` header MyDHL API requires (28-36 characters,
unique per request).

Credentials (the Connection's): ``username``, ``password``, optional
``sandbox`` (MyDHL API's test environment)."""

from __future__ import annotations

import uuid

from integrations.carriers.auth import SANDBOX_FIELD, basic_auth, error_message, is_sandbox
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://express.api.dhl.com/mydhlapi"
SANDBOX = "https://express.api.dhl.com/mydhlapi/test"


class DhlExpressClient(HttpClient):
    carrier = "dhl_express"
    # DHL Express publishes no per-second ceiling for MyDHL API tracking (it
    # is set per customer agreement); stay conservative.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "MyDHL API username"),
        CredentialField("password", "MyDHL API password", secret=True),
        SANDBOX_FIELD,
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        username = self.credentials.get("username")
        password = self.credentials.get("password")
        if not username or not password:
            raise PermanentError("DHL Express connection has no username / password")
        base = SANDBOX if is_sandbox(self.credentials) else PRODUCTION
        request = self.http.build_request(
            "GET",
            f"{base}/tracking",
            params={
                "shipmentTrackingNumber": tracking_number.strip(),
                "trackingView": "all-checkpoints",
                "levelOfDetail": "all",
            },
            headers={
                "Authorization": basic_auth(username, password),
                "Accept": "application/json",
                "Message-Reference": str(uuid.uuid4()),
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"DHL Express refuses the credentials ({response.status_code}): "
                f"{error_message(response)}"
            )
        return self.parse(response)


CLIENT = DhlExpressClient
