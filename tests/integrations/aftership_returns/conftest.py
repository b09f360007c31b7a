"""AfterShip Returns test helpers: a connection, its mocked API, deliveries through the real URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import respx

from integrations.aftership_returns.client import BASE
from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from integrations.webhooks import sign
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
API = BASE
SECRET = "as-returns-webhook-secret"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def a_return(**changes) -> dict:
    ret = copy.deepcopy(load("return.json"))
    ret.update(changes)
    return ret


def envelope(data, code=20000, kind="OK") -> dict:
    return {"meta": {"code": code, "type": kind, "message": "ok"}, "data": data}


def event(name: str, ret: dict, *, event_id="3df04d0cdf3c492fad33a15f753fb960", at=None) -> dict:
    return {
        "id": event_id,
        "created_at": at or "2026-11-20T09:00:01.000Z",
        "event": name,
        "modified": {},
        "data": ret,
    }


@pytest.fixture
def returns_connection(db):
    connection = Connection.objects.create(
        tenant=make_tenant(),
        provider="aftership_returns",
        kind=Connection.Kind.CX,
        name="AfterShip Returns",
        credentials={
            "api_key": "asat_test_key",
            "webhook_secret": SECRET,
            "store_id": "cool-shoe-store",
            "store_platform": "shopify",
        },
    )
    bucket = SharedBucket(f"aftership-returns:{connection.public_id}")
    bucket.reset()
    yield connection
    bucket.reset()


@pytest.fixture
def aftership():
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def deliver(client, connection, payload, *, secret=SECRET, body=None, headers=None):
    raw = body if body is not None else json.dumps(payload).encode()
    response = client.post(
        f"/webhooks/aftership_returns/{connection.public_id}",
        data=raw,
        content_type="application/json",
        headers=headers or {"as-signature-hmac-sha256": sign(secret, raw)},
    )
    response.applied = apply_webhooks()
    return response
