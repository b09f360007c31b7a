"""OpenTelemetry traces of the agent, exported over OTLP/HTTP when configured.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, ``configure()`` (called as a worker
process and the web process start) installs a tracer provider whose spans go
out in batches to ``<endpoint>/v1/traces``; without it nothing is installed and
every span below is a no-op. Names and attributes follow the OpenTelemetry
GenAI semantic conventions where they have one (``invoke_agent``, ``chat``,
``execute_tool``, ``gen_ai.*``); the desk's own facts carry a ``desk.`` prefix.
"""

from __future__ import annotations

import os
import threading

from opentelemetry import trace

SERVICE = "postpurchase-desk"
AGENT_NAME = "post-purchase-agent"
PROVIDER_NAME = "openai"  # the wire protocol of every LLM endpoint we call

_lock = threading.Lock()
_configured = False


def build_provider():
    """A tracer provider exporting to the configured OTLP/HTTP endpoint (not installed)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE})
    provider = TracerProvider(resource=resource)
    # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS) itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def configure() -> bool:
    """Install the OTLP exporter once per process when an endpoint is set."""
    global _configured
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return False
    with _lock:
        if not _configured:
            trace.set_tracer_provider(build_provider())
            _configured = True
    return True


def tracer():
    return trace.get_tracer("desk.agents")
