"""The step runner on the time-skipping server, with the real activities and a real fault: the
worker's Stripe key refused by the fake Stripe. A failing step marks the checkout NeedsAttention,
pauses with a doubling backoff, runs again at once on `retry_now`, and clears once it succeeds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.settings import get_settings
from devstack.fakestripe import accept_all_keys, revoke_keys
from domain.attention import RETRY_NOW_SIGNAL, Attention
from domain.checkout import PAYMENT_EVENT_SIGNAL, CheckoutState, CheckoutStatus, PaymentEvent
from domain.ids import new_id
from tests.checkout.conftest import MakeVariant, Shopper, orders_of_payment, pay, worker_activities
from tests.conftest import Outgoing, eventually
from worker import build_worker
from workflows.checkout import CheckoutWorkflow
from workflows.steps import NEEDS_ATTENTION_KEY, STEP_ATTEMPTS, pause_after


@pytest.fixture
async def refused_key(
    time_skipping_env: WorkflowEnvironment, localstripe_url: str, outgoing: Outgoing
) -> AsyncIterator[str]:
    """A worker on the time-skipping server whose own Stripe key the fake Stripe refuses."""
    settings = get_settings()
    key = f"sk_test_{new_id('worker').lower()}"
    activities = worker_activities(settings, outgoing, stripe_key=key)
    async with build_worker(time_skipping_env.client, settings.temporal_task_queue, activities):
        try:
            yield key
        finally:
            await accept_all_keys(localstripe_url)


async def _state(handle: WorkflowHandle[CheckoutWorkflow, CheckoutState]) -> CheckoutState:
    return await handle.query(CheckoutWorkflow.state)


async def _failed_attempts(
    handle: WorkflowHandle[CheckoutWorkflow, CheckoutState], attempts: int
) -> Attention | None:
    attention = (await _state(handle)).attention
    return attention if attention is not None and attention.attempts >= attempts else None


async def test_a_failing_step_pauses_with_backoff_retries_now_on_signal_and_clears(
    time_skipping_env: WorkflowEnvironment,
    skipping_shopper: Shopper,
    make_variant: MakeVariant,
    refused_key: str,
    localstripe_url: str,
) -> None:
    _, payment_intent_id = await skipping_shopper.open_checkout("eur", [(await make_variant(stock=5), 1)])
    await revoke_keys(localstripe_url, [refused_key])
    await pay(payment_intent_id)
    handle = time_skipping_env.client.get_workflow_handle_for(CheckoutWorkflow.run, payment_intent_id)
    # What a webhook does: the checkout re-reads the payment, with the refused key.
    await handle.signal(
        PAYMENT_EVENT_SIGNAL, PaymentEvent(event_id=new_id("evt"), type="payment_intent.succeeded")
    )

    first = await eventually(lambda: _failed_attempts(handle, STEP_ATTEMPTS))
    assert (first.step, first.reason, first.attempts) == ("retrieve_payment_intent", "configuration_error", 3)
    assert "stripe_key_rejected: Expired API Key provided" in first.last_failure
    assert (await handle.describe()).typed_search_attributes.get(NEEDS_ATTENTION_KEY) is True
    assert (await _state(handle)).status == CheckoutStatus.AWAITING_PAYMENT

    # The first pause (10 s) ends: a second round, still failing; the failure is as old as before.
    await time_skipping_env.sleep(pause_after(1))
    second = await eventually(lambda: _failed_attempts(handle, 2 * STEP_ATTEMPTS))
    assert second.since == first.since
    # The second pause is twice as long: half of it passes without a third round.
    assert pause_after(2) == 2 * pause_after(1)
    await time_skipping_env.sleep(pause_after(1))
    assert (await _state(handle)).attention == second

    # Support's retry_now: a third round at once, without waiting for the pause to end.
    await handle.signal(RETRY_NOW_SIGNAL)
    await eventually(lambda: _failed_attempts(handle, 3 * STEP_ATTEMPTS))

    # The key works again: the next round succeeds, the mark is cleared, the order placed.
    await accept_all_keys(localstripe_url)
    await handle.signal(RETRY_NOW_SIGNAL)
    run_id = (await handle.describe()).run_id
    outcome = await time_skipping_env.client.get_workflow_handle_for(
        CheckoutWorkflow.run, payment_intent_id, run_id=run_id
    ).result()
    assert outcome.status == CheckoutStatus.COMPLETED
    assert outcome.attention is None
    assert (await handle.describe()).typed_search_attributes.get(NEEDS_ATTENTION_KEY) is False
    assert [order.id for order in await orders_of_payment(payment_intent_id)] == [outcome.order_id]
