"""Property-based fuzzing of the intake API from its own OpenAPI document.

Schemathesis reads /api/v1/openapi.json from the app itself and generates
valid and invalid requests for every operation. Whatever it sends, the API
must answer without a server error and exactly as the document says (status
codes, content types, bodies, headers)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils.timezone import now
from hypothesis import HealthCheck, settings

from desk.actions import ProposalDraft, submit_proposal
from desk.models import Contact, Decision, Message, Proposal
from tenants.actions import issue_api_key
from tenants.actor import Actor
from tenants.models import ApiKey
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

# Few examples per operation keep the runs inside a minute; the generator still
# covers missing fields, wrong types, odd unicode and bad ids. Set
# API_FUZZ_EXAMPLES=500 to dig deeper before a release.
fuzz_settings = settings(
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """The WSGI handler closes "old" connections around each request, which
    would close the test transaction; Django's own test client unhooks them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def own_key():
    return issue_api_key(make_tenant(), "fuzz", Actor.system())


@pytest.fixture
def foreign_contact():
    """A contact of another merchant, which no other key may ever reach."""
    return make_contact(make_tenant())


@schema.parametrize()
@fuzz_settings
def test_api_conforms_to_its_schema_with_a_valid_key(case, own_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {own_key}"})


@schema.parametrize()
@fuzz_settings
def test_api_conforms_to_its_schema_without_a_key(case):
    headers = dict(case.headers or {})
    headers.pop("Authorization", None)
    case.headers = headers
    response = case.call_and_validate()
    if case.method.upper() == case.operation.method.upper():
        assert response.status_code == 401
    else:  # the fuzzer also tries methods the path does not have
        assert response.status_code == 405


@schema.parametrize()
@fuzz_settings
def test_another_tenants_key_never_reaches_a_contact(case, own_key, foreign_contact):
    if case.path_parameters is not None and "id" in case.path_parameters:
        case.path_parameters["id"] = str(foreign_contact.public_id)
    response = case.call_and_validate(headers={"Authorization": f"Bearer {own_key}"})
    assert response.status_code != 200
    if response.status_code == 202:
        created = Contact.objects.get(public_id=response.json()["id"])
        assert created.tenant_id != foreign_contact.tenant_id


def test_a_resolved_contact_is_described_by_the_schema(own_key, django_capture_on_commit_callbacks):
    """Random ids only ever reach the 404; this walks the 200 with every part filled."""
    tenant = ApiKey.objects.get(lookup=ApiKey.split(own_key)[0]).tenant
    contact = make_contact(tenant, order=make_order(tenant), intent="refund_request")
    with django_capture_on_commit_callbacks(execute=False):
        proposal = submit_proposal(
            contact,
            ProposalDraft(
                kind=Proposal.Kind.REFUND,
                amount=Decimal("24.90"),
                currency="USD",
                reply_draft="Refunded.",
                confidence=Decimal("0.9"),
                rationale="Damaged on arrival",
                parameters={},
            ),
            guardrails=[{"name": "within_auto_limit", "passed": True, "detail": "24.90 ≤ 200"}],
            actor=Actor.agent(),
        )
    Decision.objects.create(
        tenant=tenant,
        proposal=proposal,
        decided_by=make_member(tenant, Role.SPECIALIST),
        outcome=Decision.Outcome.APPROVE,
        reason_code=Decision.Reason.POLICY_OK,
    )
    Message.objects.create(
        contact=contact, direction="outbound", author_type="member", body="Refunded."
    )
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.RESOLVED, resolution=Contact.Resolution.HUMAN, resolved_at=now()
    )
    operation = schema.find_operation_by_id("getContact")
    case = operation.Case(path_parameters={"id": str(contact.public_id)})

    response = case.call(headers={"Authorization": f"Bearer {own_key}"})

    assert response.status_code == 200
    assert response.json()["resolution"]["decision"] == "approve"
    operation.validate_response(response)


def test_a_fresh_contact_with_nothing_decided_is_described_by_the_schema(own_key):
    tenant = ApiKey.objects.get(lookup=ApiKey.split(own_key)[0]).tenant
    contact = make_contact(tenant)
    operation = schema.find_operation_by_id("getContact")
    case = operation.Case(path_parameters={"id": str(contact.public_id)})

    response = case.call(headers={"Authorization": f"Bearer {own_key}"})

    assert response.status_code == 200
    assert response.json()["proposal"] is None and response.json()["resolution"] is None
    operation.validate_response(response)
