"""The intake API: authentication, validation, tenant isolation, schema."""

from __future__ import annotations

import pytest

from desk.models import Contact
from tenants.actions import issue_api_key
from tenants.actor import Actor
from tenants.models import ApiKey
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant_and_key():
    tenant = make_tenant()
    return tenant, issue_api_key(tenant, "test", Actor.system())


def _post(client, key, payload, **extra):
    return client.post(
        "/api/v1/contacts",
        data=payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"} if key else {},
        **extra,
    )


def test_valid_contact_is_accepted_with_its_id(
    client, tenant_and_key, django_capture_on_commit_callbacks
):
    tenant, key = tenant_and_key
    order = make_order(tenant)
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(
            client,
            key,
            {
                "customer_email": order.email,
                "order_number": f"#{order.number}",
                "body": "where is it",
            },
        )
    assert response.status_code == 202
    contact = Contact.objects.get(public_id=response.json()["id"])
    assert contact.tenant == tenant
    assert contact.order == order
    assert contact.channel == "api"
    assert contact.messages.get().raw["body"] == "where is it"  # the raw payload is kept
    assert len(callbacks) == 1  # the agent task, enqueued on commit


def test_unknown_order_still_creates_the_contact(
    client, tenant_and_key, django_capture_on_commit_callbacks
):
    _, key = tenant_and_key
    with django_capture_on_commit_callbacks():
        response = _post(
            client, key, {"customer_email": "a@example.com", "order_number": "999999", "body": "hi"}
        )
    assert response.status_code == 202
    assert Contact.objects.get(public_id=response.json()["id"]).order is None


def test_missing_fields_give_400_with_field_errors(client, tenant_and_key):
    _, key = tenant_and_key
    response = _post(client, key, {"customer_email": "not-an-email"})
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"customer_email", "body"}
    assert not Contact.objects.exists()


def test_an_empty_channel_is_refused_while_a_missing_one_means_the_api(client, tenant_and_key):
    _, key = tenant_and_key
    empty = _post(client, key, {"customer_email": "a@example.com", "body": "hi", "channel": ""})
    assert empty.status_code == 400
    assert set(empty.json()["fields"]) == {"channel"}
    left_out = _post(client, key, {"customer_email": "a@example.com", "body": "hi"})
    assert left_out.status_code == 202
    assert Contact.objects.get().channel == "api"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_malformed_json_is_400(client, tenant_and_key, body):
    _, key = tenant_and_key
    response = client.post(
        "/api/v1/contacts",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nope", "Basic abc", "Bearer pd_abc_def"])
def test_missing_or_wrong_key_is_401(client, tenant_and_key, header):
    response = client.post(
        "/api/v1/contacts",
        data={},
        content_type="application/json",
        headers={"Authorization": header} if header else {},
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401(client, tenant_and_key):
    from django.utils import timezone

    _, key = tenant_and_key
    ApiKey.objects.update(revoked_at=timezone.now())
    assert _post(client, key, {"customer_email": "a@example.com", "body": "x"}).status_code == 401


def test_keys_are_stored_hashed(tenant_and_key):
    _, key = tenant_and_key
    stored = ApiKey.objects.get()
    assert key.split("_", 2)[2] not in stored.secret_hash
    assert stored.secret_hash == ApiKey.hash_secret(key.split("_", 2)[2])


def test_get_contact_returns_status_intent_proposal_and_resolution(client, tenant_and_key):
    tenant, key = tenant_and_key
    contact = make_contact(tenant)
    response = client.get(
        f"/api/v1/contacts/{contact.public_id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(contact.public_id)
    assert {"status", "intent", "proposal", "resolution"} <= set(body)


def test_get_contact_of_another_tenant_is_404(client, tenant_and_key):
    _, key = tenant_and_key
    foreign = make_contact(make_tenant())
    response = client.get(
        f"/api/v1/contacts/{foreign.public_id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404


def test_openapi_schema_describes_both_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "post" in schema["paths"]["/api/v1/contacts"]
    assert "get" in schema["paths"]["/api/v1/contacts/{id}"]
    assert schema["components"]["schemas"]["ContactIn"]["required"] == ["customer_email", "body"]


# Found by the schema fuzzer (tests/desk/test_api_fuzz.py), kept as plain cases.


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"customer_email": "a@example.com", "body": ["not", "text"]}, "body"),
        ({"customer_email": "a@example.com", "body": "hi", "order_number": 1042}, "order_number"),
        ({"customer_email": {"x": 1}, "body": "hi"}, "customer_email"),
        ({"customer_email": "a@example.com", "body": None}, "body"),
    ],
)
def test_fields_of_the_wrong_json_type_are_400_not_coerced(client, tenant_and_key, payload, field):
    _, key = tenant_and_key
    response = _post(client, key, payload)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Contact.objects.exists()


def test_optional_fields_may_be_null(client, tenant_and_key, django_capture_on_commit_callbacks):
    _, key = tenant_and_key
    with django_capture_on_commit_callbacks():
        response = _post(
            client,
            key,
            {"customer_email": "a@example.com", "body": "hi", "channel": None, "subject": None},
        )
    assert response.status_code == 202
    assert Contact.objects.get().channel == "api"


def test_nul_characters_and_lone_surrogates_are_stored_as_replacement_characters(
    client, tenant_and_key, django_capture_on_commit_callbacks
):
    """PostgreSQL refuses U+0000 and unpaired surrogates; they used to give a 500."""
    _, key = tenant_and_key
    body = b'{"customer_email": "a@example.com", "body": "hi\\u0000there", "extra": {"k\\ud800": "\\u0000"}}'
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/api/v1/contacts",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 202
    message = Contact.objects.get().messages.get()
    assert message.body == "hi\ufffdthere"
    assert message.raw["extra"] == {"k\ufffd": "\ufffd"}


@pytest.mark.parametrize("body", [b'{"body": NaN}', b'{"body": Infinity}', b"[" * 5000])
def test_non_json_constants_and_absurd_nesting_are_400(client, tenant_and_key, body):
    _, key = tenant_and_key
    response = client.post(
        "/api/v1/contacts",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_body_that_is_not_json_is_415(client, tenant_and_key):
    _, key = tenant_and_key
    response = client.post(
        "/api/v1/contacts",
        data={"customer_email": "a@example.com", "body": "hi"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/api/v1/contacts", "POST"),
        ("delete", "/api/v1/contacts", "POST"),
        ("post", "/api/v1/contacts/00000000-0000-0000-0000-000000000000", "GET, HEAD"),
        ("put", "/api/v1/contacts/00000000-0000-0000-0000-000000000000", "GET, HEAD"),
    ],
)
def test_other_methods_are_405_in_json_with_allow(client, method, path, allowed):
    """Not a CSRF page: the API has no session, so it says which methods it has."""
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response.json()["error"]


def test_openapi_documents_security_errors_and_the_link_to_follow_a_contact(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["tenantKey"]["scheme"] == "bearer"
    create = schema["paths"]["/api/v1/contacts"]["post"]
    read = schema["paths"]["/api/v1/contacts/{id}"]["get"]
    assert set(create["responses"]) == {"202", "400", "401", "413", "415"}
    assert set(read["responses"]) == {"200", "401", "404"}
    for operation in (create, read):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                content = response["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Error"}
    assert create["responses"]["202"]["links"]["GetContact"]["operationId"] == "getContact"


def _submit(client, key, idempotency_key, body="where is my parcel"):
    return client.post(
        "/api/v1/contacts",
        data={"customer_email": "ada@example.com", "body": body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )


def test_the_same_idempotency_key_sent_again_is_the_same_contact(client, tenant_and_key):
    tenant, key = tenant_and_key
    first = _submit(client, key, "order-5123-msg-1")
    again = _submit(client, key, "order-5123-msg-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Contact.objects.filter(tenant=tenant).count() == 1


def test_idempotency_keys_belong_to_their_tenant(client, tenant_and_key):
    _, key = tenant_and_key
    other = make_tenant()
    other_key = issue_api_key(other, "other", Actor.system())
    mine = _submit(client, key, "shared-key")
    theirs = _submit(client, other_key, "shared-key")
    assert mine.json()["id"] != theirs.json()["id"]
    assert Contact.objects.get(public_id=theirs.json()["id"]).tenant == other


def test_two_submissions_racing_with_one_key_make_one_contact(transactional_db, tenant_and_key):
    import threading

    from django.db import connection
    from django.test import Client

    tenant, key = tenant_and_key
    barrier = threading.Barrier(2)
    ids: list[str] = []

    def submit() -> None:
        barrier.wait()
        try:
            ids.append(_submit(Client(), key, "raced").json()["id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 2 and ids[0] == ids[1]
    assert Contact.objects.filter(tenant=tenant).count() == 1


@pytest.mark.parametrize("bad", ["has space", "x" * 129])
def test_a_malformed_idempotency_key_is_400(client, tenant_and_key, bad):
    _, key = tenant_and_key
    assert _submit(client, key, bad).status_code == 400
    assert not Contact.objects.exists()


def test_an_empty_idempotency_key_is_400(client, tenant_and_key):
    _, key = tenant_and_key
    assert _submit(client, key, "").status_code == 400
