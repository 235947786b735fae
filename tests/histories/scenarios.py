"""The scenarios `python -m tests.histories.record` records (not collected by the normal run).

Each `test_<name>` drives one path of one workflow type through the real stack and saves that
workflow's history as `<name>.json` (in tests/histories/, or the directory `--into` names).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import stripe
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleActionResult
from temporalio.testing import WorkflowEnvironment

from core.settings import get_settings
from devstack.fakestripe import open_dispute, resolve_dispute
from domain.checkout import CheckoutState, CheckoutStatus, FailureCode
from domain.ids import new_id, order_workflow_id
from models import Region
from tests.checkout.conftest import (
    CARD_DECLINED,
    MakeVariant,
    Shopper,
    buy,
    make_variant,
    pay,
    regions,
    shopper,
    stack_on_own_queue,
    workflow_outcome,
)
from tests.conftest import Outgoing, eventually
from tests.histories.record import history_file
from tests.orders.conftest import Admin, admin, event_types, fake_stripe_url
from worker import ensure_schedule, reconciler_schedule
from workflows.outbox import OutboxDeliveryWorkflow
from workflows.reconciler import RECONCILER_SCHEDULE_ID, StripeReconcilerWorkflow

__all__ = ["admin", "make_variant", "regions", "shopper"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


async def save_workflow_history(temporal_env: WorkflowEnvironment, name: str, workflow_id: str) -> None:
    """Write the history of the workflow `workflow_id` (its latest run) as `<name>[.<edition>].json`."""
    if name not in os.environ.get("RECORD_HISTORIES", "").split(","):
        pytest.skip("run through python -m tests.histories.record")
    path = Path(os.environ.get("RECORD_HISTORIES_INTO", HERE)) / f"{history_file(name)}.json"
    assert not path.exists(), f"{path} is recorded already"
    history = await temporal_env.client.get_workflow_handle(workflow_id).fetch_history()
    # The stack traces of failed activities name this checkout's files: relative, no machine path.
    path.write_text(history.to_json().replace(f"{ROOT}{os.sep}", ""))


async def _save(temporal_env: WorkflowEnvironment, name: str, payment_intent_id: str) -> None:
    """Write the history of the OrderWorkflow of the order paid by `payment_intent_id`."""
    await save_workflow_history(temporal_env, name, order_workflow_id(payment_intent_id))


async def _settled(admin: Admin, order_id: str, emails: int) -> None:
    async def check() -> bool:
        return event_types(await admin.order(order_id)).count("email_sent") >= emails

    await eventually(check)


async def test_order_shipment(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5), quantity=2)
    [item] = purchase.order["items"]
    assert (await admin.ship(purchase.order["id"], [(item["id"], 1)])).status_code == 201
    assert (await admin.ship(purchase.order["id"])).status_code == 201
    await _settled(admin, purchase.order["id"], 3)
    await _save(temporal_env, "order_shipment", purchase.payment_intent_id)


async def test_order_cancel(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    assert (await admin.cancel(purchase.order["id"], "customer asked")).status_code == 200
    await _settled(admin, purchase.order["id"], 2)
    await _save(temporal_env, "order_cancel", purchase.payment_intent_id)


async def test_order_partial_refund(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    refunded = await admin.refund(purchase.order["id"], {"amount": 1000, "reason": "requested_by_customer"})
    assert refunded.status_code == 201, refunded.text
    await _settled(admin, purchase.order["id"], 2)
    await _save(temporal_env, "order_partial_refund", purchase.payment_intent_id)


async def test_order_return(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    [item] = purchase.order["items"]
    assert (await admin.ship(purchase.order["id"])).status_code == 201
    ret = (await admin.request_return(purchase.order["id"], [(item["id"], 1)])).json()["return"]
    assert (await admin.receive(ret["id"], [(item["id"], 1, True)])).status_code == 200
    await _settled(admin, purchase.order["id"], 3)
    await _save(temporal_env, "order_return", purchase.payment_intent_id)


async def test_order_dispute(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    dispute = await open_dispute(fake_stripe_url(), purchase.payment_intent_id)
    await _settled(admin, purchase.order["id"], 2)  # the confirmation and the shop's notice
    await resolve_dispute(fake_stripe_url(), dispute["id"], "won")

    async def closed() -> bool:
        return "dispute_closed" in event_types(await admin.order(purchase.order["id"]))

    await eventually(closed)
    await _save(temporal_env, "order_dispute", purchase.payment_intent_id)


# --- CheckoutWorkflow: its workflow ID is the PaymentIntent ID ----------------------------------

# The dev server does not skip time: the paths through the payment timeout wait this long.
SHORT_PAYMENT_TIMEOUT_SECONDS = 3


async def _save_checkout(
    temporal_env: WorkflowEnvironment,
    name: str,
    payment_intent_id: str,
    status: CheckoutStatus,
    failure_code: FailureCode | None = None,
) -> CheckoutState:
    """Wait for the checkout to close the way this path does, then write its history."""
    outcome = await workflow_outcome(temporal_env, payment_intent_id)
    assert (outcome.status, outcome.failure_code) == (status, failure_code)
    await save_workflow_history(temporal_env, name, payment_intent_id)
    return outcome


async def test_checkout_paid(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    await _save_checkout(temporal_env, "checkout_paid", purchase.payment_intent_id, CheckoutStatus.COMPLETED)


async def test_checkout_declined_then_paid(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    cart, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(stock=5), 1)])
    with pytest.raises(stripe.CardError):
        await pay(payment_intent_id, CARD_DECLINED)
    declined = await shopper.complete(cart["id"])
    assert declined.status_code == 402, declined.text
    await pay(payment_intent_id)  # the same PaymentIntent, another card
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    await _save_checkout(
        temporal_env, "checkout_declined_then_paid", payment_intent_id, CheckoutStatus.COMPLETED
    )


@pytest.fixture
async def short_timeout_shopper(
    temporal_env: WorkflowEnvironment, localstripe_url: str, regions: dict[str, Region], outgoing: Outgoing
) -> AsyncIterator[Shopper]:
    """The store API and a worker on a task queue of their own, whose checkouts time out soon."""
    async with stack_on_own_queue(
        temporal_env, regions, outgoing, checkout_payment_timeout_seconds=SHORT_PAYMENT_TIMEOUT_SECONDS
    ) as (_, short_shopper):
        yield short_shopper


async def test_checkout_expired(
    short_timeout_shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    _, payment_intent_id = await short_timeout_shopper.open_checkout(
        "eur", [(await make_variant(stock=5), 1)]
    )
    await _save_checkout(
        temporal_env,
        "checkout_expired",
        payment_intent_id,
        CheckoutStatus.EXPIRED,
        FailureCode.CHECKOUT_EXPIRED,
    )


async def test_checkout_late_payment(
    short_timeout_shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    """Authorized, but nobody tells the checkout (the fake Stripe sends no event for an
    authorization, nobody calls `complete`): the timeout fires, cancelling the PaymentIntent finds
    it authorized, and the order is placed all the same."""
    _, payment_intent_id = await short_timeout_shopper.open_checkout(
        "eur", [(await make_variant(stock=5), 1)]
    )
    await pay(payment_intent_id)
    outcome = await _save_checkout(
        temporal_env, "checkout_late_payment", payment_intent_id, CheckoutStatus.COMPLETED
    )
    assert outcome.payment_checks == 0  # never re-read before the timeout: the late path


async def test_checkout_compensation(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    """The cart grows after the authorization: placing the order is refused (`amount_mismatch`),
    the authorization is voided and the stock released."""
    variant_id = await make_variant(stock=5)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
    await pay(payment_intent_id)
    added = await shopper.http.post(
        f"/store/carts/{cart['id']}/line-items", json={"variant_id": variant_id, "quantity": 1}
    )
    assert added.status_code == 200, added.text
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 409, completed.text
    await _save_checkout(
        temporal_env,
        "checkout_compensation",
        payment_intent_id,
        CheckoutStatus.FAILED,
        FailureCode.AMOUNT_MISMATCH,
    )


# --- StripeReconcilerWorkflow: a run of its Schedule ---------------------------------------------


async def test_reconciler(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    """An authorized PaymentIntent whose checkout was never told: the Schedule's run nudges it."""
    _, payment_intent_id = await shopper.open_checkout("eur", [(await make_variant(stock=5), 1)])
    await pay(payment_intent_id)  # no event for an authorization, no `complete`
    await ensure_schedule(temporal_env.client, RECONCILER_SCHEDULE_ID, reconciler_schedule(get_settings()))
    schedule = temporal_env.client.get_schedule_handle(RECONCILER_SCHEDULE_ID)
    try:
        await schedule.trigger()

        async def started() -> list[ScheduleActionResult]:
            return (await schedule.describe()).info.recent_actions

        first = (await eventually(started))[0].action
        assert isinstance(first, ScheduleActionExecutionStartWorkflow)
        result = await temporal_env.client.get_workflow_handle_for(
            StripeReconcilerWorkflow.run, first.workflow_id, run_id=first.first_execution_run_id
        ).result()
    finally:
        await schedule.delete()
    assert result.nudged >= 1
    assert (await workflow_outcome(temporal_env, payment_intent_id)).status == CheckoutStatus.COMPLETED
    await save_workflow_history(temporal_env, "reconciler", first.workflow_id)


# --- OutboxDeliveryWorkflow: a run of its Schedule ------------------------------------------------


async def test_outbox_delivery(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    """One run of the delivery Schedule's workflow (started directly, as the Schedule starts it)."""
    await buy(shopper, await make_variant(stock=5))
    workflow_id = new_id("outbox-delivery")
    await temporal_env.client.execute_workflow(
        OutboxDeliveryWorkflow.run, id=workflow_id, task_queue=get_settings().temporal_task_queue
    )
    await save_workflow_history(temporal_env, "outbox_delivery", workflow_id)
