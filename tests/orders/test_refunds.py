"""Refunds: by amount or by items, idempotent by key, never above what was paid, recorded once."""

from __future__ import annotations

import asyncio

import pytest

from tests.checkout.conftest import MakeVariant, Shopper, buy, outbox_of, transactions_of
from tests.conftest import eventually
from tests.orders.conftest import Admin, buy_lines, event_types, item_ids, stripe_refunded, stripe_refunds


@pytest.mark.e2e
async def test_partial_then_full_refund_moves_the_payment_status_and_is_recorded_once(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3), quantity=2)
    order_id, total = purchase.order["id"], purchase.order["total"]

    partial = await admin.refund(
        order_id, {"amount": 1000, "reason": "requested_by_customer", "note": "late"}
    )

    assert partial.status_code == 201, partial.text
    refund = partial.json()["refund"]
    assert (refund["amount"], refund["status"], refund["currency_code"]) == (1000, "succeeded", "eur")
    assert refund["stripe_refund_id"].startswith("re_")
    order = partial.json()["order"]
    assert order["payment_status"] == "partially_refunded"
    assert (order["paid_total"], order["refunded_total"], order["refundable_amount"]) == (
        total,
        1000,
        total - 1000,
    )
    [at_stripe] = await stripe_refunds(purchase.payment_intent_id)
    assert (at_stripe["id"], at_stripe["amount"], at_stripe["metadata"]["refund_id"]) == (
        refund["stripe_refund_id"],
        1000,
        refund["id"],
    )

    too_much = await admin.refund(order_id, {"amount": total, "reason": "requested_by_customer"})
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "refund_exceeds_refundable")

    rest = await admin.refund(order_id, {"amount": total - 1000, "reason": "requested_by_customer"})
    assert rest.status_code == 201, rest.text
    assert rest.json()["order"]["payment_status"] == "refunded"
    assert rest.json()["order"]["refundable_amount"] == 0
    refunds = [(t.reference, t.amount) for t in await transactions_of(order_id)]
    assert sorted(refunds) == sorted([("capture", total), ("refund", -1000), ("refund", -(total - 1000))])
    assert await stripe_refunded(purchase.payment_intent_id) == total
    assert event_types(rest.json()["order"]).count("refund_succeeded") == 2

    async def refund_emails() -> int:
        return len([m for m in await outbox_of(order_id, "email") if "refund" in m.subject])

    assert await eventually(lambda: _equals(refund_emails, 2))


async def _equals(read, expected):  # type: ignore[no-untyped-def]
    return await read() == expected


@pytest.mark.e2e
async def test_refund_by_items_gives_their_price_with_their_share_of_tax_and_shipping_once(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    towel, robe = await make_variant(stock=5), await make_variant(stock=5)
    purchase = await buy_lines(shopper, [(towel, 2), (robe, 1)])
    order = purchase.order
    items = item_ids(order)
    unit = {item["id"]: item["unit_price"] for item in order["items"]}
    taxable = order["subtotal"] + order["shipping_total"]

    def share(base: int) -> int:
        return (2 * order["tax_total"] * base + taxable) // (2 * taxable)

    one_towel = await admin.refund(
        order["id"], {"items": [{"item_id": items[towel], "quantity": 1}], "reason": "requested_by_customer"}
    )
    assert one_towel.status_code == 201, one_towel.text
    assert one_towel.json()["refund"]["amount"] == unit[items[towel]] + share(unit[items[towel]])

    over = await admin.refund(
        order["id"], {"items": [{"item_id": items[towel], "quantity": 2}], "reason": "requested_by_customer"}
    )
    assert (over.status_code, over.json()["error"]["code"]) == (409, "item_already_refunded")

    rest = await admin.refund(
        order["id"],
        {
            "items": [{"item_id": items[towel], "quantity": 1}, {"item_id": items[robe], "quantity": 1}],
            "include_shipping": True,
            "reason": "requested_by_customer",
        },
    )
    assert rest.status_code == 201, rest.text
    # Everything refunded by item, in two parts: exactly the order's total, tax included.
    assert one_towel.json()["refund"]["amount"] + rest.json()["refund"]["amount"] == order["total"]
    assert rest.json()["order"]["payment_status"] == "refunded"
    shipping_again = await admin.refund(
        order["id"],
        {"items": [{"item_id": items[robe], "quantity": 1}], "include_shipping": True, "reason": "duplicate"},
    )
    assert (shipping_again.status_code, shipping_again.json()["error"]["code"]) == (
        409,
        "item_already_refunded",
    )


@pytest.mark.e2e
async def test_idempotency_key_same_body_same_refund_other_body_refused_no_key_refused(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id = purchase.order["id"]
    body = {"amount": 500, "reason": "requested_by_customer"}

    first = await admin.refund(order_id, body, key="support-ticket-42")
    again = await admin.refund(order_id, body, key="support-ticket-42")
    other = await admin.refund(order_id, {**body, "amount": 600}, key="support-ticket-42")
    no_key = await admin.http.post(f"/admin/orders/{order_id}/refunds", json=body)

    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    assert again.json()["refund"] == first.json()["refund"]
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert (no_key.status_code, no_key.json()["error"]["code"]) == (400, "idempotency_key_required")
    assert [r["amount"] for r in await stripe_refunds(purchase.payment_intent_id)] == [500]
    assert [t.amount for t in await transactions_of(order_id) if t.reference == "refund"] == [-500]


@pytest.mark.e2e
async def test_concurrent_refunds_with_one_key_make_one_stripe_refund(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id = purchase.order["id"]
    body = {"amount": 700, "reason": "requested_by_customer"}

    answers = await asyncio.gather(*(admin.refund(order_id, body, key="same-key") for _ in range(5)))

    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
    assert len({a.json()["refund"]["id"] for a in answers}) == 1
    assert [r["amount"] for r in await stripe_refunds(purchase.payment_intent_id)] == [700]
    assert [t.amount for t in await transactions_of(order_id) if t.reference == "refund"] == [-700]


@pytest.mark.e2e
async def test_concurrent_refunds_that_together_exceed_what_was_paid_refund_no_more_than_paid(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id, total = purchase.order["id"], purchase.order["total"]
    share = total // 2 + 1  # any two of them are more than was paid

    answers = await asyncio.gather(
        *(admin.refund(order_id, {"amount": share, "reason": "requested_by_customer"}) for _ in range(4))
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "refund_exceeds_refundable"
    }
    assert await stripe_refunded(purchase.payment_intent_id) == share
    assert sum(t.amount for t in await transactions_of(order_id)) == total - share
