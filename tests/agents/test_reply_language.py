"""The agent answers in the customer's language when the merchant allows it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from agents import replies
from agents.guardrails import check
from agents.models import AgentRun
from desk.actions import ProposalDraft
from desk.models import Contact, Proposal
from integrations.models import Refund
from tests.agents import llm_stub
from tests.agents.helpers import run_agent
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db

# Messages of kinds that move no money: no language may promise money in them.
NO_MONEY = [key for key in replies.MESSAGES["en"] if key.startswith("status_")] + [
    "address",
    "replacement",
]


def _answer(contact: Contact) -> str:
    """The agent's answer, as sent (a satisfaction survey may follow it)."""
    answer = contact.current_proposal.reply_draft
    assert contact.messages.filter(direction="outbound", body=answer).exists()
    return answer


def test_every_language_has_every_message_with_the_same_placeholders():
    english = replies.MESSAGES["en"]
    assert set(replies.LANGUAGES) == {"en", "es", "de", "fr", "it", "pt"}
    for language, messages in replies.MESSAGES.items():
        assert set(messages) == set(english), language
        for key, text in messages.items():
            assert replies.placeholders(text) == replies.placeholders(english[key]), (language, key)


@pytest.mark.parametrize("language", ["en", "es", "de", "fr", "it", "pt"])
def test_messages_that_move_no_money_never_promise_it(language):
    money = re.compile(replies.MONEY_WORDS, re.IGNORECASE)
    for key in NO_MONEY:
        assert not money.search(replies.MESSAGES[language][key]), (language, key)


def test_a_spanish_message_gets_a_spanish_reply(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="in_transit")
    contact = make_contact(
        tenant, order=order, body="Hola, ¿dónde está mi pedido? Lo pedí hace una semana."
    )
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.language == "es"
    assert contact.resolution == Contact.Resolution.AI
    answer = _answer(contact)
    assert f"tu pedido #{order.number} está en camino con UPS" in answer
    assert "on its way" not in answer


def test_a_german_refund_is_confirmed_in_german_with_the_same_figures(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(
        tenant, order=order, body="Ich möchte mein Geld zurück für diese Bestellung."
    )
    run_agent(contact, django_capture_on_commit_callbacks)
    assert Refund.objects.get(order=order).amount == Decimal("45.00")
    assert contact.current_proposal.kind == Proposal.Kind.REFUND
    assert f"45.00 USD für die Bestellung #{order.number}" in _answer(contact)


def test_a_tenant_that_does_not_allow_it_answers_in_its_own_language(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant(locale="fr-FR", reply_languages=["fr"])
    order = make_order(tenant, shipment_status="in_transit")
    contact = make_contact(tenant, order=order, body="¿Dónde está mi pedido?")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.language == "es"
    assert f"votre commande #{order.number} est en route" in _answer(contact)


def test_a_language_we_do_not_write_falls_back_to_the_tenant_default():
    tenant = make_tenant(locale="de")
    assert replies.reply_language(tenant, "nl") == "de"
    assert replies.reply_language(tenant, "it") == "it"
    assert replies.reply_language(make_tenant(locale="ja"), "nl") == "en"
    assert replies.reply_language(make_tenant(reply_languages=[]), "es") == "en"


def test_the_llm_is_told_the_language_and_its_reply_is_kept(
    monkeypatch, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="in_transit")
    written = f"Hola, tu pedido #{order.number} ya va de camino."
    with llm_stub.StubLLM() as stub:
        monkeypatch.setenv("LLM_BASE_URL", stub.base_url)
        monkeypatch.setenv("LLM_REQUEST_TIMEOUT", "2")
        monkeypatch.setenv("LLM_RETRIES", "0")
        stub.replies = [
            llm_stub.tool_call(
                "propose_action",
                {"kind": "reply", "reply": written, "rationale": "tracking", "confidence": 0.9},
            )
        ]
        contact = make_contact(tenant, order=order, body="¿Dónde está mi pedido?")
        run_agent(contact, django_capture_on_commit_callbacks)
    system = [m["content"] for m in stub.requests[0]["messages"] if m["role"] == "system"]
    assert any("in Spanish (es)" in text for text in system)
    assert AgentRun.objects.get(contact=contact).planner == "llm"
    assert _answer(contact) == written


def test_an_admin_chooses_the_reply_languages_in_the_settings(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, "admin"))
    response = client.post(
        reverse("tenants:settings", kwargs={"slug": tenant.slug}),
        {
            "auto_refund_limit": "150",
            "daily_auto_refund_cap": "1500",
            "confidence_threshold": "0.75",
            "specialist_approval_limit": "400",
            "decision_sla_hours": "4",
            "qa_sample_percent": "5",
            "csat_survey_delay_hours": "24",
            "auto_action_kinds": ["reply", "store_credit"],
            "reply_languages": ["es", "pt"],
        },
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.reply_languages == ["es", "pt"]
    assert tenant.auto_action_kinds == ["reply", "store_credit"]
    assert replies.reply_language(tenant, "de") == "en"


@pytest.mark.parametrize(
    "reply",
    [
        "Hola, te reembolsaremos el pedido.",
        "Hallo, Sie bekommen einen Gutschein.",
        "Bonjour, nous vous remboursons demain.",
        "Ciao, riceverai un rimborso.",
        "Olá, vamos reembolsar o seu pedido.",
    ],
)
def test_a_reply_may_not_promise_money_in_any_language(reply):
    tenant = make_tenant()
    order = make_order(tenant)
    draft = ProposalDraft(
        kind=Proposal.Kind.REPLY, reply_draft=reply, confidence=Decimal("0.95"), rationale=""
    )
    verdicts = check(tenant, draft, order=order, customer=None)
    assert [v["name"] for v in verdicts if not v["passed"]] == ["reply_grounded"]
