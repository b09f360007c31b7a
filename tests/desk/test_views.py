"""The desk's pages: the tenant trio (right role 200, too-low role 403, other
tenant 404) and both HTMX and plain paths of each decision."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from desk.actions import ProposalDraft, submit_proposal
from desk.models import Contact, Decision, Proposal
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import log_in, make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalated(django_capture_on_commit_callbacks):
    """A tenant with a $300 refund proposal waiting for a human."""
    tenant = make_tenant()
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="refund please")
    with django_capture_on_commit_callbacks(execute=False):
        proposal = submit_proposal(
            contact,
            ProposalDraft(
                kind=Proposal.Kind.REFUND,
                amount=Decimal("300.00"),
                currency="USD",
                reply_draft="Refunded.",
                confidence=Decimal("0.9"),
                rationale="Refund request",
                parameters={"amount_source": "order.refundable_remainder"},
            ),
            guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "300 above 200"}],
            actor=Actor.agent(),
        )
    contact.refresh_from_db()
    return tenant, contact, proposal


def _detail(contact):
    return reverse("desk:contact", kwargs={"contact_id": contact.public_id})


def _approve(contact, proposal):
    return reverse(
        "desk:approve", kwargs={"contact_id": contact.public_id, "proposal_id": proposal.public_id}
    )


def _co_approve(contact, proposal):
    return reverse(
        "desk:co-approve",
        kwargs={"contact_id": contact.public_id, "proposal_id": proposal.public_id},
    )


def _reject(contact, proposal):
    return reverse(
        "desk:reject", kwargs={"contact_id": contact.public_id, "proposal_id": proposal.public_id}
    )


def test_anonymous_visitor_is_sent_to_login(client, escalated):
    _, contact, _ = escalated
    response = client.get(_detail(contact))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_specialist_sees_the_escalation_in_the_inbox(client, escalated):
    tenant, contact, _ = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    response = client.get(reverse("desk:inbox"))
    assert response.status_code == 200
    assert str(contact.public_id) in response.content.decode()
    assert "300 above 200" in response.content.decode()


def test_inbox_htmx_request_returns_only_the_list_partial(client, escalated):
    tenant, _, _ = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    response = client.get(reverse("desk:inbox"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="inbox-list"' in html
    assert "<html" not in html


def test_inbox_does_not_show_other_tenants_escalations(client, escalated):
    _, contact, _ = escalated
    other = make_tenant()
    client.force_login(make_member(other, Role.SPECIALIST))
    response = client.get(reverse("desk:inbox"))
    assert response.status_code == 200
    assert str(contact.public_id) not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.SPECIALIST, 200), (Role.LEAD, 200), (Role.MERCHANT_ADMIN, 403)],
)
def test_inbox_filtered_by_tenant_checks_the_role(client, escalated, role, expected):
    tenant, _, _ = escalated
    client.force_login(make_member(tenant, role))
    assert client.get(reverse("desk:inbox"), {"tenant": tenant.slug}).status_code == expected


def test_inbox_filtered_by_someone_elses_tenant_is_404(client, escalated):
    tenant, _, _ = escalated
    client.force_login(make_member(make_tenant(), Role.SPECIALIST))
    assert client.get(reverse("desk:inbox"), {"tenant": tenant.slug}).status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.SPECIALIST, 200), (Role.ACCOUNT_MANAGER, 200), (Role.MERCHANT_ADMIN, 403)],
)
def test_decision_packet_checks_the_role(client, escalated, role, expected):
    tenant, contact, _ = escalated
    client.force_login(make_member(tenant, role))
    assert client.get(_detail(contact)).status_code == expected


def test_decision_packet_of_another_tenant_is_404(client, escalated):
    _, contact, _ = escalated
    client.force_login(make_member(make_tenant(), Role.SPECIALIST))
    assert client.get(_detail(contact)).status_code == 404


def test_decision_packet_with_a_malformed_id_is_404(client, escalated):
    tenant, _, _ = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert (
        client.get(reverse("desk:contact", kwargs={"contact_id": "not-a-uuid"})).status_code == 404
    )


def test_decision_packet_shows_proposal_order_lines_tracking_and_reason(client, escalated):
    tenant, contact, _ = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    html = client.get(_detail(contact)).content.decode()
    assert "300.00 USD" in html
    assert f"#{contact.order.number}" in html
    assert "Test item" in html  # the order line
    assert "Scan: delivered" in html  # the tracking timeline
    assert "300 above 200" in html  # why it was escalated
    assert 'id="approve-button"' in html


def test_account_manager_sees_the_packet_but_no_decision_buttons(client, escalated):
    tenant, contact, _ = escalated
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    html = client.get(_detail(contact)).content.decode()
    assert 'id="approve-button"' not in html


def test_plain_approve_redirects_to_the_packet(
    client, escalated, django_capture_on_commit_callbacks
):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(_approve(contact, proposal), {"reason_code": "policy_ok"})
    assert response.status_code == 302
    assert response["Location"] == _detail(contact)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED


def test_htmx_approve_returns_the_decision_panel_only(
    client, escalated, django_capture_on_commit_callbacks
):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            _approve(contact, proposal),
            {"reason_code": "policy_ok"},
            headers={"HX-Request": "true"},
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card decision" id="decision-panel"')
    assert "Approved" in html


def test_second_approval_is_refused_with_409(client, escalated, django_capture_on_commit_callbacks):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    with django_capture_on_commit_callbacks(execute=False):
        client.post(_approve(contact, proposal), {"reason_code": "policy_ok"})
        response = client.post(
            _approve(contact, proposal),
            {"reason_code": "policy_ok"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 409
    assert "already been decided" in response.content.decode()
    assert Decision.objects.filter(proposal=proposal).count() == 1


def test_approve_with_an_unknown_reason_is_400(client, escalated):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    response = client.post(_approve(contact, proposal), {"reason_code": "because"})
    assert response.status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED


def test_account_manager_cannot_approve(client, escalated):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    assert client.post(_approve(contact, proposal), {"reason_code": "policy_ok"}).status_code == 403


def test_member_of_another_tenant_cannot_approve(client, escalated):
    _, contact, proposal = escalated
    client.force_login(make_member(make_tenant(), Role.SPECIALIST))
    assert client.post(_approve(contact, proposal), {"reason_code": "policy_ok"}).status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED


def test_specialist_above_their_approval_limit_waits_for_a_lead(
    client, escalated, django_capture_on_commit_callbacks
):
    tenant, contact, proposal = escalated
    tenant.specialist_approval_limit = Decimal("250")
    tenant.save()
    specialist = make_member(tenant, Role.SPECIALIST)
    client.force_login(specialist)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_approve(contact, proposal), {"reason_code": "policy_ok"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING_LEAD
    assert not [c for c in callbacks if "execute" in repr(c)]  # nothing runs yet

    # The specialist cannot fill the second seat; a lead can.
    assert client.post(_co_approve(contact, proposal)).status_code == 403
    lead = make_member(tenant, Role.LEAD)
    client.force_login(lead)  # a session without a recent sign-in
    response = client.post(_co_approve(contact, proposal))
    assert response["Location"].startswith("/accounts/reauthenticate/")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING_LEAD
    log_in(client, lead)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(_co_approve(contact, proposal))
    assert response["Location"] == _detail(contact)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert list(proposal.decisions.values_list("outcome", flat=True)) == ["approve", "co_approve"]


def test_a_lead_cannot_co_approve_their_own_approval(
    client, escalated, django_capture_on_commit_callbacks
):
    tenant, _, proposal = escalated
    lead = make_member(tenant, Role.LEAD)
    from desk.actions import DecisionError, co_approve_proposal

    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.AWAITING_LEAD)
    Decision.objects.create(
        tenant=tenant,
        proposal=proposal,
        decided_by=lead,
        outcome="approve",
        reason_code="policy_ok",
    )
    with pytest.raises(DecisionError, match="second person"):
        co_approve_proposal(proposal, lead, role=Role.LEAD)


def test_reject_replies_and_resolves_by_a_human(client, escalated):
    tenant, contact, proposal = escalated
    user = make_member(tenant, Role.SPECIALIST)
    client.force_login(user)
    response = client.post(
        _reject(contact, proposal),
        {"reason_code": "policy_denies", "reply": "Sorry, this item is final sale."},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.status == Contact.Status.RESOLVED
    assert contact.resolution == Contact.Resolution.HUMAN
    assert (
        contact.messages.filter(direction="outbound", author_user=user)
        .get()
        .body.startswith("Sorry")
    )


def test_reject_without_a_reply_is_400(client, escalated):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    response = client.post(
        _reject(contact, proposal), {"reason_code": "policy_denies", "reply": ""}
    )
    assert response.status_code == 400


def test_decision_endpoints_refuse_get(client, escalated):
    tenant, contact, proposal = escalated
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert client.get(_approve(contact, proposal)).status_code == 405


def test_approving_money_needs_two_factor_when_required(client, escalated, settings):
    from allauth.mfa.models import Authenticator

    settings.MFA_REQUIRED_FOR_APPROVALS = True
    tenant, contact, proposal = escalated
    user = make_member(tenant, Role.SPECIALIST)
    client.force_login(user)
    response = client.post(_approve(contact, proposal), {"reason_code": "policy_ok"})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED

    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.post(_approve(contact, proposal), {"reason_code": "policy_ok"}).status_code == 302


@pytest.mark.parametrize("kind", [Proposal.Kind.STORE_CREDIT, Proposal.Kind.CANCEL_ORDER])
def test_every_kind_that_pays_out_needs_two_factor(
    client, settings, django_capture_on_commit_callbacks, kind
):
    """Not only refunds: store credit and a cancellation (which refunds what was
    paid) move money too."""
    settings.MFA_REQUIRED_FOR_APPROVALS = True
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant, total="40.00"), body="cancel it")
    with django_capture_on_commit_callbacks(execute=False):
        proposal = submit_proposal(
            contact,
            ProposalDraft(
                kind=kind,
                amount=Decimal("40.00"),
                currency="USD",
                reply_draft="Done.",
                confidence=Decimal("0.9"),
                rationale="Customer asked",
                parameters={},
            ),
            guardrails=[{"name": "kind_allowed", "passed": False, "detail": "needs a human"}],
            actor=Actor.agent(),
        )
    client.force_login(make_member(tenant, Role.SPECIALIST))

    response = client.post(_approve(contact, proposal), {"reason_code": "policy_ok"})

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED


def test_a_lead_approving_above_the_limit_must_have_signed_in_recently(client, escalated):
    tenant, contact, proposal = escalated
    tenant.specialist_approval_limit = Decimal("100")
    tenant.save()
    lead = make_member(tenant, Role.LEAD)
    client.force_login(lead)
    response = client.post(_approve(contact, proposal), {"reason_code": "policy_ok"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED
