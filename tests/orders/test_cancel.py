"""Cancel: the authorization voided or the captured money refunded, unshipped stock back, one email."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from devstack.fakestripe import delay_requests
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    buy,
    checkout_row,
    orders_of_cart,
    outbox_of,
    pay,
    transactions_of,
    workflow_outcome,
)
from tests.conftest import eventually
from tests.orders.conftest import Admin, event_types, fake_stripe_url, stock_and_ledger, stripe_refunded


async def _cancellation_emails(order_id: str) -> int:
    return len([m for m in await outbox_of(order_id, "email") if m.subject.endswith("has been canceled")])


@pytest.mark.e2e
async def test_cancel_refunds_what_was_captured_puts_the_stock_back_and_answers_the_same_again(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=5)
    purchase = await buy(shopper, variant_id, quantity=2)
    order_id, total = purchase.order["id"], purchase.order["total"]

    canceled = await admin.cancel(order_id, reason="customer changed their mind")

    assert canceled.status_code == 200, canceled.text
    order = canceled.json()["order"]
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == (
        "canceled",
        "refunded",
        "canceled",
    )
    [refund] = order["refunds"]
    assert (refund["amount"], refund["source"], refund["reason"], refund["actor"]) == (
        total,
        "cancel",
        "order_canceled",
        "bootstrap",
    )
    assert await stripe_refunded(purchase.payment_intent_id) == total
    assert sum(t.amount for t in await transactions_of(order_id)) == 0
    stocked, ledger, reasons = await stock_and_ledger(variant_id)
    assert (stocked, ledger, reasons) == (5, 5, ["initial", "sale", "cancel"])
    assert {"canceled", "refund_succeeded"} <= set(event_types(order))
    assert next(e for e in order["events"] if e["type"] == "canceled")["data"]["reason"] == (
        "customer changed their mind"
    )
    assert await eventually(lambda: _is(_cancellation_emails(order_id), 1))

    again = await admin.cancel(order_id)
    assert again.status_code == 200, again.text
    assert again.json()["order"]["refunds"] == order["refunds"]
    assert await stripe_refunded(purchase.payment_intent_id) == total
    assert (await stock_and_ledger(variant_id))[:2] == (5, 5)
    assert await _cancellation_emails(order_id) == 1


async def _is(value, expected):  # type: ignore[no-untyped-def]
    return await value == expected


@pytest.mark.e2e
async def test_an_order_with_anything_shipped_cannot_be_canceled(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5), quantity=2)
    [item] = purchase.order["items"]
    assert (await admin.ship(purchase.order["id"], [(item["id"], 1)])).status_code == 201

    refused = await admin.cancel(purchase.order["id"])

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "order_fulfilled")
    order = await admin.order(purchase.order["id"])
    assert (order["status"], order["payment_status"]) == ("pending", "captured")
    assert await stripe_refunded(purchase.payment_intent_id) == 0


@pytest.mark.e2e
async def test_cancel_and_refund_at_the_same_moment_give_the_money_back_exactly_once(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    variant_id = await make_variant(stock=4)
    purchase = await buy(shopper, variant_id, quantity=2)
    order_id, total = purchase.order["id"], purchase.order["total"]

    cancel, refund = await asyncio.gather(
        admin.cancel(order_id), admin.refund(order_id, {"amount": total, "reason": "requested_by_customer"})
    )

    assert cancel.status_code == 200, cancel.text
    assert refund.status_code in (201, 409), refund.text
    order = await admin.order(order_id)
    assert (order["status"], order["payment_status"], order["refundable_amount"]) == (
        "canceled",
        "refunded",
        0,
    )
    assert await stripe_refunded(purchase.payment_intent_id) == total
    assert order["refunded_total"] == total
    assert sum(t.amount for t in await transactions_of(order_id)) == 0
    assert (await stock_and_ledger(variant_id))[:2] == (4, 4)


@pytest.mark.e2e
async def test_cancel_racing_the_checkouts_own_capture_keeps_no_money_and_puts_the_stock_back(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    """The operator cancels while the checkout is about to capture: whichever reaches Stripe first,
    the customer ends up paying nothing and the stock is back."""
    variant_id = await make_variant(stock=3)
    cart, payment_intent_id = await shopper.open_checkout("eur", [(variant_id, 1)])
    await pay(payment_intent_id)
    # The checkout's reads of the PaymentIntent answer late: the order exists, the capture waits.
    await delay_requests(
        fake_stripe_url(), f"/v1/payment_intents/{payment_intent_id}", 3, method="GET", times=2
    )
    completing = asyncio.create_task(shopper.complete(cart["id"]))
    [order] = await eventually(lambda: orders_of_cart(cart["id"]))

    canceled = await admin.cancel(order.id)

    assert canceled.status_code == 200, canceled.text
    await completing
    await workflow_outcome(temporal_env, payment_intent_id)
    intent = await retrieve_payment_intent(payment_intent_id)
    kept = (intent.amount_received if intent.captured else 0) - await stripe_refunded(payment_intent_id)
    assert kept == 0, intent
    final = await admin.order(order.id)
    assert final["status"] == "canceled"
    assert final["payment_status"] in ("canceled", "refunded")
    assert sum(t.amount for t in await transactions_of(order.id)) == 0
    assert (await stock_and_ledger(variant_id))[:2] == (3, 3)
    row = await checkout_row(payment_intent_id)
    assert row is not None and row.order_id == order.id
    assert await eventually(lambda: _is(_cancellation_emails(order.id), 1))
