from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.gorgias.client import GorgiasClient
from integrations.models import Connection
from integrations.ratelimit import SharedBucket

FIXTURES = Path(__file__).parent / "fixtures"
API = "https://northwind.gorgias.com/api"
SECRET = "a-long-random-phrase-for-the-desk"


def fixture(name: str, **replace: str) -> dict:
    text = (FIXTURES / name).read_text()
    for key, value in replace.items():
        text = text.replace(key, value)
    return json.loads(text)


@pytest.fixture
def bucket():
    bucket = SharedBucket("gorgias:test-northwind", capacity=40, restore_rate=2)
    bucket.reset()
    yield bucket
    bucket.reset()


@pytest.fixture
def gorgias(db, tenant):
    return Connection.objects.create(
        tenant=tenant,
        provider="gorgias",
        kind="cx",
        name="Gorgias",
        credentials={
            "domain": "northwind",
            "email": "desk-bot@northwind.example",
            "api_key": "gorgias-api-key",
            "webhook_secret": SECRET,
        },
    )


@pytest.fixture
def tenant(db):
    from tests.factories import make_tenant

    return make_tenant()


def make_client(bucket, **kwargs) -> GorgiasClient:
    sleeps: list[float] = []
    client = GorgiasClient(
        "northwind",
        "desk-bot@northwind.example",
        "gorgias-api-key",
        bucket=bucket,
        sleep=sleeps.append,
        **kwargs,
    )
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client
