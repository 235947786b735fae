"""Returns: never more than shipped, received with a restock choice per line, refunded unless told not to."""

from __future__ import annotations

import pytest

from tests.checkout.conftest import MakeVariant, Shopper, transactions_of
from tests.orders.conftest import Admin, buy_lines, event_types, item_ids, stock_and_ledger, stripe_refunded


@pytest.mark.e2e
async def test_return_received_restocks_what_was_asked_refunds_the_received_units_and_cancel_frees_the_rest(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    towel, robe = await make_variant(stock=6), await make_variant(stock=6)
    purchase = await buy_lines(shopper, [(towel, 3), (robe, 1)])
    order_id = purchase.order["id"]
    items = item_ids(purchase.order)
    unit = {item["id"]: item["unit_price"] for item in purchase.order["items"]}
    assert (await admin.ship(order_id, [(items[towel], 2)])).status_code == 201

    unshipped = await admin.request_return(order_id, [(items[towel], 3)])
    assert (unshipped.status_code, unshipped.json()["error"]["code"]) == (409, "return_exceeds_shipped")
    not_shipped = await admin.request_return(order_id, [(items[robe], 1)])
    assert (not_shipped.status_code, not_shipped.json()["error"]["code"]) == (409, "return_exceeds_shipped")

    requested = await admin.request_return(order_id, [(items[towel], 2)])
    assert requested.status_code == 201, requested.text
    ret = requested.json()["return"]
    assert (ret["status"], ret["items"][0]["quantity"]) == ("requested", 2)
    # Both shipped units are on their way back: nothing more can be asked.
    more = await admin.request_return(order_id, [(items[towel], 1)])
    assert (more.status_code, more.json()["error"]["code"]) == (409, "return_exceeds_shipped")

    # One came back in good shape (restocked), one damaged (kept out of stock); both refunded.
    received = await admin.receive(ret["id"], [(items[towel], 1, True), (items[towel], 1, False)])
    assert received.status_code == 200, received.text
    done = received.json()["return"]
    assert done["status"] == "received"
    assert (done["items"][0]["received_quantity"], done["items"][0]["restocked_quantity"]) == (2, 1)
    order = await admin.order(order_id)
    [refund] = order["refunds"]
    assert (refund["source"], refund["return_id"], refund["status"]) == ("return", ret["id"], "succeeded")
    assert refund["amount"] > 2 * unit[items[towel]]  # their price and their share of the tax
    assert await stripe_refunded(purchase.payment_intent_id) == refund["amount"]
    assert order["fulfillment_status"] == "partially_returned"
    assert {"return_requested", "return_received", "refund_succeeded"} <= set(event_types(order))
    stocked, ledger, reasons = await stock_and_ledger(towel)
    assert (stocked, ledger, reasons) == (4, 4, ["initial", "sale", "return"])
    assert sum(t.amount for t in await transactions_of(order_id)) == order["total"] - refund["amount"]

    again = await admin.receive(ret["id"], [(items[towel], 2, True)])
    assert again.status_code == 200, again.text
    assert again.json()["return"] == done
    assert (await stock_and_ledger(towel))[:2] == (4, 4)

    # The rest ships; a return asked for and then canceled gives its units back to be returned.
    assert (await admin.ship(order_id)).status_code == 201
    second = (await admin.request_return(order_id, [(items[robe], 1)])).json()["return"]
    canceled = await admin.http.post(f"/admin/returns/{second['id']}/cancel")
    assert (canceled.status_code, canceled.json()["return"]["status"]) == (200, "canceled")
    late = await admin.receive(second["id"], [(items[robe], 1, True)])
    assert (late.status_code, late.json()["error"]["code"]) == (409, "return_not_open")
    third = await admin.request_return(order_id, [(items[robe], 1)])
    assert third.status_code == 201, third.text


@pytest.mark.e2e
async def test_return_received_without_refund_restocks_only(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    towel = await make_variant(stock=2)
    purchase = await buy_lines(shopper, [(towel, 1)])
    order_id = purchase.order["id"]
    [item] = purchase.order["items"]
    assert (await admin.ship(order_id)).status_code == 201
    ret = (await admin.request_return(order_id, [(item["id"], 1)])).json()["return"]

    received = await admin.receive(ret["id"], [(item["id"], 1, True)], refund=False)

    assert received.status_code == 200, received.text
    order = await admin.order(order_id)
    assert order["refunds"] == [] and order["payment_status"] == "captured"
    assert order["fulfillment_status"] == "returned"
    assert await stripe_refunded(purchase.payment_intent_id) == 0
    assert (await stock_and_ledger(towel)) == (2, 2, ["initial", "sale", "return"])
