"""Issue 7's "done when", as one flow: buy two lines, ship one, refund one line, take the other
back, and the order's timeline and transactions tell exactly what Stripe holds."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from core.stripe_gateway import retrieve_payment_intent
from domain.ids import order_workflow_id
from tests.checkout.conftest import MakeVariant, Shopper, transactions_of
from tests.conftest import eventually
from tests.orders.conftest import Admin, buy_lines, event_types, item_ids, stock_and_ledger, stripe_refunded


@pytest.mark.e2e
async def test_buy_two_lines_ship_one_refund_one_return_the_other(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    towel, robe = await make_variant(stock=5), await make_variant(stock=5)
    purchase = await buy_lines(shopper, [(towel, 1), (robe, 1)])
    order_id = purchase.order["id"]
    items = item_ids(purchase.order)

    # Ship half the order: the towel; the robe is refunded (not in stock after all, say).
    assert (await admin.ship(order_id, [(items[towel], 1)])).status_code == 201
    robe_refund = await admin.refund(
        order_id, {"items": [{"item_id": items[robe], "quantity": 1}], "reason": "requested_by_customer"}
    )
    assert robe_refund.status_code == 201, robe_refund.text
    # The refunded robe is not sent any more: nothing is left to ship, the order is completed.
    rest = await admin.ship(order_id)
    assert (rest.status_code, rest.json()["error"]["code"]) == (409, "already_shipped")
    assert robe_refund.json()["order"]["status"] == "completed"
    # The towel comes back and goes back on the shelf; its refund follows the return.
    ret = (await admin.request_return(order_id, [(items[towel], 1)])).json()["return"]
    received = await admin.receive(ret["id"], [(items[towel], 1, True)])
    assert received.status_code == 200, received.text

    async def settled() -> dict | None:
        order = await admin.order(order_id)
        return order if event_types(order).count("email_sent") >= 4 else None

    order = await eventually(settled)
    assert event_types(order)[:2] == ["placed", "captured"]
    assert {
        "shipped",
        "refund_requested",
        "refund_succeeded",
        "return_requested",
        "return_received",
        "email_sent",
    } <= set(event_types(order))
    assert {e["actor"] for e in order["events"] if e["type"] in ("shipped", "return_received")} == {
        "bootstrap"
    }
    assert [e["data"]["kind"] for e in order["events"] if e["type"] == "email_sent"].count("refund") == 2
    # Every line refunded with its share of tax; shipping not refunded.
    assert order["payment_status"] == "partially_refunded"
    refunded = sum(r["amount"] for r in order["refunds"])
    assert [r["status"] for r in order["refunds"]] == ["succeeded", "succeeded"]
    assert refunded > sum(item["subtotal"] for item in order["items"])  # their tax share too
    assert order["refundable_amount"] == order["total"] - refunded >= order["shipping_total"]
    # The order's transactions add up to exactly what Stripe holds.
    intent = await retrieve_payment_intent(purchase.payment_intent_id)
    held_by_stripe = intent.amount_received - await stripe_refunded(purchase.payment_intent_id)
    assert (
        sum(t.amount for t in await transactions_of(order_id))
        == held_by_stripe
        == order["paid_total"] - order["refunded_total"]
    )
    assert (await stock_and_ledger(towel)) == (5, 5, ["initial", "sale", "return"])
    assert (await stock_and_ledger(robe))[:2] == (4, 4)
    described = await temporal_env.client.get_workflow_handle(
        order_workflow_id(purchase.payment_intent_id)
    ).describe()
    assert described.search_attributes.get("OrderId") == [order_id]
