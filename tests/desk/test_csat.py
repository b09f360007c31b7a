"""The CSAT survey: sent at resolution, answered without logging in through a
signed link, stored once per contact with who resolved it."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.urls import reverse

from desk import csat
from desk.actions import ProposalDraft, submit_proposal
from desk.models import Contact, CsatResponse, Message
from tenants.actor import Actor
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(django_capture_on_commit_callbacks):
    """A WISMO contact the agent answered alone."""
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant))
    with django_capture_on_commit_callbacks(execute=False):
        submit_proposal(
            contact,
            ProposalDraft(
                kind="reply", reply_draft="It is on its way.", confidence=0.95, rationale=""
            ),
            guardrails=[],
            actor=Actor.agent(),
        )
    contact.refresh_from_db()
    return contact


def _survey_path(contact: Contact) -> str:
    message = contact.messages.get(raw__kind="csat_survey")
    return re.search(r"https?://[^/]+(/csat/[^/\s]+/)", message.body).group(1)


def test_resolution_sends_one_survey_and_the_reply_stays_the_last_answer(resolved):
    assert resolved.status == Contact.Status.RESOLVED
    outbound = list(resolved.messages.filter(direction="outbound").order_by("-created_at"))
    assert outbound[0].body == "It is on its way."
    assert sum(m.raw.get("kind") == "csat_survey" for m in outbound) == 1


def test_customer_answers_without_logging_in(client, resolved):
    path = _survey_path(resolved)
    page = client.get(path)
    assert page.status_code == 200
    assert not CsatResponse.objects.exists()  # a link scanner's GET records nothing
    response = client.post(path, {"score": "4"})
    assert response.status_code == 302
    answer = CsatResponse.objects.get(contact=resolved)
    assert (answer.score, answer.resolution) == (4, "ai")
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_a_second_click_changes_the_score_and_keeps_the_comment(client, resolved):
    path = _survey_path(resolved)
    client.post(path, {"score": "2", "comment": "Slow courier"})
    client.post(path, {"score": "5"}, headers={"HX-Request": "true"})
    answer = CsatResponse.objects.get()
    assert (answer.score, answer.comment) == (5, "Slow courier")


def test_scores_outside_one_to_five_are_refused(client, resolved):
    response = client.post(_survey_path(resolved), {"score": "9"})
    assert response.status_code == 200
    assert "pick a score" in response.content.decode()
    assert not CsatResponse.objects.exists()


def test_a_tampered_or_foreign_token_is_not_found(client, resolved):
    token = csat.make_token(resolved)
    assert client.get(reverse("desk:csat", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    forged = signing.dumps(str(resolved.public_id), salt="another purpose")
    assert client.get(reverse("desk:csat", kwargs={"token": forged})).status_code == 404


def test_an_open_contact_has_no_survey(client):
    tenant = make_tenant()
    contact = make_contact(tenant)
    assert not Message.objects.filter(contact=contact, raw__kind="csat_survey").exists()
    url = reverse("desk:csat", kwargs={"token": csat.make_token(contact)})
    assert client.get(url).status_code == 404
