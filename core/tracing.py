"""OpenTelemetry tracing across API → workflow → activities, on when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Unset, nothing of OpenTelemetry's SDK is imported or started. Set, each process installs one
tracer provider exporting OTLP over HTTP/protobuf to `{endpoint}/v1/traces` (as the
OTEL_EXPORTER_OTLP_ENDPOINT convention says; the exporter's other OTEL_EXPORTER_OTLP_* variables
apply too), the Temporal client gets Temporal's TracingInterceptor (a worker made from that
client inherits it, so the workflow and its activities join the trace of the request that
started them), and the FastAPI app is instrumented (api.main).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor


def tracing_enabled(settings: Settings) -> bool:
    return settings.otel_exporter_otlp_endpoint is not None


def start_tracing(settings: Settings, service: str, exporter: SpanExporter | None = None) -> None:
    """Install this process's tracer provider (once: a later call keeps the first one).

    `exporter` replaces the OTLP exporter (tests pass an in-memory one, exported span by span).
    """
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service, "deployment.environment.name": settings.environment})
    )
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = (settings.otel_exporter_otlp_endpoint or "").rstrip("/")
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """The Temporal client's interceptors: tracing's, when on."""
    if not tracing_enabled(settings):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]
