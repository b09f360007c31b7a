"""The desk's answers go back to the Gorgias ticket through the outbox, once, and
the ticket closes when the contact is resolved. Only Gorgias's HTTP API is mocked."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from desk.actions import ProposalDraft, submit_proposal
from desk.models import Contact
from integrations.gorgias import status
from integrations.gorgias.tasks import close_ticket
from integrations.messaging.actions import send_now
from integrations.messaging.clients import TemporaryError
from integrations.messaging.models import OutboundMessage
from integrations.ratelimit import SharedBucket
from tenants.actor import Actor
from tests.factories import apply_webhooks
from tests.integrations.gorgias.conftest import API, SECRET, fixture

pytestmark = pytest.mark.django_db

TICKET = 86538298


@pytest.fixture(autouse=True)
def _fresh_bucket():
    SharedBucket("gorgias:northwind").reset()


@pytest.fixture
def contact(client, gorgias, tenant):
    client.post(
        f"/webhooks/gorgias/{gorgias.public_id}",
        data=json.dumps(fixture("ticket_created.json", ORDER_NUMBER="5123")),
        content_type="application/json",
        headers={"X-Desk-Token": SECRET},
    )
    assert apply_webhooks() == ["processed"]
    return Contact.objects.get(tenant=tenant)


def _answer(contact, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit_proposal(
            contact,
            ProposalDraft(
                kind="reply",
                reply_draft="Your parcel is on its way.\nIt arrives Thursday.",
                confidence=Decimal("0.95"),
                rationale="In transit, on time.",
            ),
            guardrails=[],
            actor=Actor.agent(),
        )
    reply = OutboundMessage.objects.get(tenant=contact.tenant, body__startswith="Your parcel")
    return reply, callbacks


def _created(reference: str) -> httpx.Response:
    return httpx.Response(201, json=fixture("message_created_response.json", REFERENCE=reference))


def test_the_agents_answer_is_posted_on_the_ticket_as_an_agent_message(
    contact, django_capture_on_commit_callbacks
):
    reply, _ = _answer(contact, django_capture_on_commit_callbacks)
    with respx.mock(assert_all_called=True) as api:
        post = api.post(f"{API}/tickets/{TICKET}/messages").mock(
            return_value=_created(str(reply.public_id))
        )
        assert send_now(reply.pk) == "sent"

    sent = json.loads(post.calls.last.request.content)
    assert sent["from_agent"] is True and sent["channel"] == "email" and sent["via"] == "api"
    assert sent["sender"] == {"email": "desk-bot@northwind.example"}
    assert sent["receiver"] == {"id": 387705374}
    assert sent["body_text"] == "Your parcel is on its way.\nIt arrives Thursday."
    assert sent["body_html"] == "Your parcel is on its way.<br>It arrives Thursday."
    assert sent["external_id"] == f"desk-outbox:{reply.public_id}"
    assert sent["source"]["from"] == {"address": "support@northwind.example"}
    assert sent["source"]["to"] == [{"address": "ada.lovelace@example.com"}]
    assert "sent_datetime" not in sent  # Gorgias sends it to the customer
    reply.refresh_from_db()
    assert (reply.provider, reply.provider_id) == ("gorgias", "208842001")


def test_a_retry_after_an_unanswered_post_finds_the_reply_instead_of_posting_twice(
    contact, django_capture_on_commit_callbacks
):
    reply, _ = _answer(contact, django_capture_on_commit_callbacks)
    with respx.mock() as api:
        post = api.post(f"{API}/tickets/{TICKET}/messages").respond(504)
        with pytest.raises(TemporaryError):
            send_now(reply.pk)
        # The post did reach Gorgias: the second attempt finds it on page two.
        OutboundMessage.objects.filter(pk=reply.pk).update(send_after=None)
        api.get(f"{API}/messages").mock(
            side_effect=[
                httpx.Response(200, json=fixture("messages_page_1.json")),
                httpx.Response(
                    200, json=fixture("messages_page_2.json", REFERENCE=str(reply.public_id))
                ),
            ]
        )
        assert send_now(reply.pk) == "sent"

    assert post.call_count == 1
    reply.refresh_from_db()
    assert reply.provider_id == "208842001" and reply.attempts == 2


def test_a_refused_reply_fails_and_shows_gorgias_words_on_the_case(
    contact, django_capture_on_commit_callbacks
):
    reply, _ = _answer(contact, django_capture_on_commit_callbacks)
    with respx.mock() as api:
        api.post(f"{API}/tickets/{TICKET}/messages").respond(400, json=fixture("error_400.json"))
        assert send_now(reply.pk) == "failed"

    reply.refresh_from_db()
    assert "Invalid request data." in reply.error
    note = contact.messages.get(direction="internal")
    assert "Customer with this email address does not exist." in note.body


def test_resolving_the_contact_closes_the_ticket_once_the_reply_is_posted(
    contact, django_capture_on_commit_callbacks
):
    reply, callbacks = _answer(contact, django_capture_on_commit_callbacks)
    assert any(getattr(c, "keywords", None) == {"contact_id": contact.pk} for c in callbacks)
    assert close_ticket.name == "integrations.gorgias_close_ticket"

    with respx.mock(assert_all_called=True) as api:
        put = api.put(f"{API}/tickets/{TICKET}").respond(
            200, json={"id": TICKET, "status": "closed"}
        )
        # The reply is still queued: closing waits for it.
        assert status.close(contact.pk) == status.Outcome("waiting", retry_in=15)
        api.post(f"{API}/tickets/{TICKET}/messages").mock(
            return_value=_created(str(reply.public_id))
        )
        # The answer and whatever else the resolution queued (the survey) go out first.
        for queued in OutboundMessage.objects.filter(tenant=contact.tenant, state="queued"):
            assert send_now(queued.pk) == "sent"
        assert status.close(contact.pk).result == "closed"

    assert json.loads(put.calls.last.request.content) == {"status": "closed"}


def test_a_refused_close_is_written_on_the_case(contact, django_capture_on_commit_callbacks):
    _answer(contact, django_capture_on_commit_callbacks)
    OutboundMessage.objects.filter(tenant=contact.tenant).update(state="sent")
    with respx.mock() as api:
        api.put(f"{API}/tickets/{TICKET}").respond(
            404, json={"error": {"msg": "Resource not found."}}
        )
        assert status.close(contact.pk).result == "refused"

    note = contact.messages.get(direction="internal")
    assert (
        note.body
        == f"Gorgias did not close ticket {TICKET}: Gorgias answered 404: Resource not found."
    )


def test_a_close_hit_by_the_rate_limit_is_retried_later(
    contact, django_capture_on_commit_callbacks
):
    _answer(contact, django_capture_on_commit_callbacks)
    OutboundMessage.objects.filter(tenant=contact.tenant).update(state="sent")
    with respx.mock() as api:
        api.put(f"{API}/tickets/{TICKET}").respond(429, headers={"Retry-After": "40"})
        outcome = status.close(contact.pk)

    assert outcome.result == "retrying" and outcome.retry_in == 40
    assert not contact.messages.filter(direction="internal").exists()
