"""OpenTelemetry spans of a real agent run, and their export over OTLP/HTTP."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents import telemetry
from tests.agents import llm_stub
from tests.agents.helpers import run_agent
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans():
    """Spans of this test, kept in memory (the global provider is set once per process)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    yield exporter
    exporter.clear()
    processor.shutdown()


def test_an_agent_run_is_one_span_with_a_child_per_tool_and_llm_request(
    spans, monkeypatch, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="in_transit")
    with llm_stub.StubLLM() as stub:
        monkeypatch.setenv("LLM_BASE_URL", stub.base_url)
        monkeypatch.setenv("LLM_MODEL", "gpt-4o-mini")
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

    finished = spans.get_finished_spans()
    (agent,) = [s for s in finished if s.name == "invoke_agent post-purchase-agent"]
    children = [s for s in finished if s.parent and s.parent.span_id == agent.context.span_id]
    assert agent.attributes["desk.tenant"] == tenant.slug
    assert agent.attributes["desk.contact.id"] == str(contact.public_id)
    assert agent.attributes["desk.intent"] == "wismo"
    assert agent.attributes["desk.planner"] == "llm"
    assert agent.attributes["desk.decision"] == "reply"
    assert agent.attributes["desk.outcome"] == "resolved"
    assert (
        agent.attributes["gen_ai.usage.input_tokens"],
        agent.attributes["gen_ai.usage.output_tokens"],
    ) == (240, 60)
    assert agent.attributes["desk.cost_usd"] == pytest.approx(0.000072)  # gpt-4o-mini list price
    chats = [s for s in children if s.name == "chat gpt-4o-mini"]
    assert len(chats) == 2
    assert chats[0].attributes["gen_ai.operation.name"] == "chat"
    assert chats[0].attributes["gen_ai.provider.name"] == "openai"
    assert chats[0].attributes["gen_ai.usage.input_tokens"] == 120
    assert tuple(chats[1].attributes["gen_ai.response.finish_reasons"]) == ("tool_calls",)
    tools = {
        s.attributes["gen_ai.tool.name"] for s in children if s.name.startswith("execute_tool")
    }
    assert {"get_order", "get_tracking", "risk_signals"} <= tools


def test_without_an_endpoint_nothing_is_installed(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert telemetry.configure() is False


def test_spans_are_posted_to_the_otlp_http_endpoint(monkeypatch):
    received: list[tuple[str, str, int]] = []

    class Collector(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, self.headers.get("Content-Type"), len(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}"
        )
        provider = telemetry.build_provider()
        with provider.get_tracer("test").start_as_current_span("invoke_agent test"):
            pass
        assert provider.force_flush(5000)
        provider.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    assert received
    path, content_type, size = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    assert size > 0
