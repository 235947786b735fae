"""With OTEL_EXPORTER_OTLP_ENDPOINT set, one trace spans the API request that opened the checkout,
the checkout workflow and its activities (Temporal's TracingInterceptor on the API's client and
the worker's). The spans go to an in-memory exporter instead of the OTLP one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings, get_settings
from core.temporal import connect_temporal
from core.tracing import start_tracing, tracing_enabled
from models import Region
from tests.checkout.conftest import MakeVariant, OwnQueue, Shopper, pay
from tests.conftest import eventually


@pytest.fixture
def tracing_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """OTEL_EXPORTER_OTLP_ENDPOINT set (never reached: the spans go to memory)."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def names(spans: list[ReadableSpan]) -> set[str]:
    return {span.name for span in spans}


@pytest.mark.e2e
async def test_one_trace_spans_the_request_the_workflow_and_an_activity(
    tracing_on: Settings,
    temporal_env: WorkflowEnvironment,
    own_queue: Callable[..., OwnQueue],
    regions: dict[str, Region],
    make_variant: MakeVariant,
) -> None:
    assert tracing_enabled(tracing_on)
    spans = InMemorySpanExporter()
    start_tracing(tracing_on, "gracestowel-test", exporter=spans)
    target = temporal_env.client.service_client.config.target_host
    # Both with the TracingInterceptor: the API's client, and the worker's (made from it).
    queue = own_queue(
        temporal=await connect_temporal(tracing_on.model_copy(update={"temporal_address": target}))
    )

    async with queue.worker(), queue.store() as http:
        shopper = Shopper(http=http, regions=regions)
        cart, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(), 1)])
        await pay(payment_intent_id)
        completed = await shopper.complete(cart["id"])
        assert completed.status_code == 200, completed.text

        def request_trace() -> list[ReadableSpan]:
            finished = list(spans.get_finished_spans())
            opened = [s for s in finished if s.name == "POST /store/carts/{cart_id}/payment-sessions"]
            assert len(opened) == 1, names(finished)
            trace_id = opened[0].context.trace_id
            return [s for s in finished if s.context.trace_id == trace_id]

        async def workflow_and_activity_joined() -> list[ReadableSpan] | None:
            in_trace = request_trace()
            wanted = {"RunWorkflow:CheckoutWorkflow", "RunActivity:capture_order_payment"}
            return in_trace if wanted <= names(in_trace) else None

        in_trace = await eventually(workflow_and_activity_joined)

    assert "StartUpdateWithStartWorkflow:CheckoutWorkflow" in names(in_trace)
    assert {"StartActivity:retrieve_payment_intent", "RunActivity:retrieve_payment_intent"} <= names(in_trace)
