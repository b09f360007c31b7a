"""What the LLM planner spends per contact: tokens, and their cost at the model's price."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from agents.eval.runner import summarise
from agents.llm import config
from agents.models import AgentRun
from tests.agents import llm_stub
from tests.agents.helpers import run_agent
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_list_prices_per_million_tokens_and_overrides(monkeypatch):
    # gpt-4o-mini: 0.15 USD per 1M input tokens, 0.60 per 1M output tokens.
    assert config.cost_usd("gpt-4o-mini", 1_000_000, 0) == Decimal("0.150000")
    assert config.cost_usd("gpt-4o-mini", 2000, 500) == Decimal("0.000600")
    assert config.cost_usd("no-such-model", 2000, 500) == Decimal("0")
    monkeypatch.setenv("LLM_PRICES", json.dumps({"gpt-4o-mini": {"input": 1, "output": 2}}))
    assert config.cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == Decimal("3.000000")
    monkeypatch.setenv("LLM_PRICES", "not json")
    assert config.cost_usd("gpt-4o-mini", 1_000_000, 0) == Decimal("0.150000")


def test_a_run_stores_what_its_llm_requests_cost(monkeypatch, django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="in_transit")
    with llm_stub.StubLLM() as stub:
        monkeypatch.setenv("LLM_BASE_URL", stub.base_url)
        monkeypatch.setenv("LLM_MODEL", "stub-model")
        monkeypatch.setenv("LLM_PRICES", json.dumps({"stub-model": {"input": 2, "output": 8}}))
        monkeypatch.setenv("LLM_RETRIES", "0")
        stub.replies = [
            llm_stub.tool_call("get_tracking", {}),
            llm_stub.tool_call(
                "propose_action",
                {
                    "kind": "reply",
                    "reply": f"Hi, order #{order.number} is on its way.",
                    "rationale": "tracking",
                    "confidence": 0.9,
                },
            ),
        ]
        contact = make_contact(tenant, order=order, body="where is my order")
        run_agent(contact, django_capture_on_commit_callbacks)
    run = AgentRun.objects.get(contact=contact)
    # Two requests of 120 prompt and 30 completion tokens each.
    assert (run.prompt_tokens, run.completion_tokens) == (240, 60)
    assert run.cost_usd == Decimal("0.000960")  # 240 × 2/1M + 60 × 8/1M


def test_the_trace_page_sums_the_spend_of_every_run(client):
    tenant = make_tenant()
    contact = make_contact(tenant)
    for prompt, completion, cost in ((1000, 200, "0.000270"), (500, 100, "0.000135")):
        AgentRun.objects.create(
            tenant=tenant,
            contact=contact,
            planner="llm",
            llm_calls=1,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=Decimal(cost),
        )
    client.force_login(make_member(tenant, "specialist"))
    response = client.get(reverse("agents:trace", kwargs={"contact_id": contact.public_id}))
    assert response.status_code == 200
    assert (
        "LLM spend on this contact: 2 calls, 1500 + 300 tokens, 0.000405 USD"
        in response.content.decode()
    )


def test_the_eval_summary_reports_tokens_and_cost():
    def result(tokens: int, cost: str) -> dict:
        return {
            "id": f"s-{tokens}",
            "category": "wismo",
            "correct": True,
            "unsafe": False,
            "deflected": True,
            "actual": {"failed_guardrails": [], "tokens": tokens, "cost_usd": cost},
        }

    summary = summarise([result(300, "0.000100"), result(700, "0.000250")])
    assert (summary["total_tokens"], summary["cost_usd"]) == (1000, "0.000350")
