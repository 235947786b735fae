"""What happens at Stripe outside our calls reaches the order: dashboard refunds, refunds that fail
later, disputes. Each event is a hint; the order's workflow re-reads Stripe and records once."""

from __future__ import annotations

from typing import Any

import pytest

from core.stripe_gateway import get_stripe_client
from devstack.fakestripe import fail_refund, open_dispute, resolve_dispute
from tests.checkout.conftest import MakeVariant, Shopper, buy, outbox_of, transactions_of
from tests.conftest import eventually
from tests.orders.conftest import Admin, event_types, fake_stripe_url


async def _order_when(admin: Admin, order_id: str, ready: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        order = await admin.order(order_id)
        return order if ready(order) else None

    result: dict[str, Any] = await eventually(check)
    return result


async def _events_about(object_id: str) -> list[dict[str, Any]]:
    page = await get_stripe_client().v1.events.list_async({"limit": 100})
    return [e.to_dict() for e in page.data if e.to_dict()["data"]["object"].get("id") == object_id]


@pytest.mark.e2e
async def test_dashboard_refund_delivered_three_times_is_one_refund_and_one_transaction(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id = purchase.order["id"]

    made = await get_stripe_client().v1.refunds.create_async(
        {"payment_intent": purchase.payment_intent_id, "amount": 800}
    )
    [created] = await eventually(lambda: _events_about(made.id))
    for _ in range(3):
        delivered = await shopper.webhook(created)
        assert (delivered.status_code, delivered.json()["routed"]) == (200, "order"), delivered.text

    order = await _order_when(admin, order_id, lambda o: o["refunds"])
    [refund] = order["refunds"]
    assert (refund["amount"], refund["source"], refund["actor"], refund["stripe_refund_id"]) == (
        800,
        "stripe",
        "stripe",
        made.id,
    )
    assert order["payment_status"] == "partially_refunded"
    assert [t.amount for t in await transactions_of(order_id) if t.reference == "refund"] == [-800]
    assert next(e for e in order["events"] if e["type"] == "refund_succeeded")["actor"] == "stripe"
    emails = await eventually(
        lambda: _subjects(order_id, f"A refund for your Grace's Towel order {order_id}")
    )
    assert len(emails) == 1


async def _subjects(order_id: str, subject: str) -> list[str]:
    return [m.subject for m in await outbox_of(order_id, "email") if m.subject == subject]


@pytest.mark.e2e
async def test_refund_that_fails_later_is_reversed_and_shown(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id = purchase.order["id"]
    refunded = await admin.refund(order_id, {"amount": 900, "reason": "requested_by_customer"})
    assert refunded.status_code == 201, refunded.text

    await fail_refund(
        fake_stripe_url(), refunded.json()["refund"]["stripe_refund_id"], "expired_or_canceled_card"
    )

    order = await _order_when(admin, order_id, lambda o: o["refunds"][0]["status"] == "failed")
    [refund] = order["refunds"]
    assert refund["failure_reason"] == "expired_or_canceled_card"
    assert (order["payment_status"], order["refunded_total"], order["refundable_amount"]) == (
        "captured",
        0,
        order["total"],
    )
    movements = sorted((t.reference, t.amount) for t in await transactions_of(order_id))
    assert movements == [("capture", order["total"]), ("refund", -900), ("refund_reversal", 900)]
    failed = next(e for e in order["events"] if e["type"] == "refund_failed")
    assert failed["data"]["failure_reason"] == "expired_or_canceled_card"


@pytest.mark.e2e
async def test_dispute_opened_blocks_refunds_withdraws_funds_tells_the_shop_and_closes_won(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id, total = purchase.order["id"], purchase.order["total"]

    dispute = await open_dispute(fake_stripe_url(), purchase.payment_intent_id, reason="fraudulent")

    order = await _order_when(
        admin, order_id, lambda o: o["disputes"] and "dispute_funds_withdrawn" in event_types(o)
    )
    [shown] = order["disputes"]
    assert (shown["id"], shown["status"], shown["amount"], shown["reason"]) == (
        dispute["id"],
        "needs_response",
        total,
        "fraudulent",
    )
    assert [t.amount for t in await transactions_of(order_id) if t.reference == "dispute"] == [-total]
    refused = await admin.refund(order_id, {"amount": 100, "reason": "requested_by_customer"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "order_disputed")

    async def shop_notices() -> list[Any]:
        return [m for m in await outbox_of(order_id, "email") if m.recipient == "shop@gracestowel.example"]

    [notice] = await eventually(shop_notices)
    assert notice.subject == f"Dispute opened on order {order_id}"
    assert dispute["id"] in notice.payload["text"]

    await resolve_dispute(fake_stripe_url(), dispute["id"], "won")

    order = await _order_when(admin, order_id, lambda o: o["disputes"][0]["status"] == "won")
    assert order["disputes"][0]["closed_at"] is not None
    assert sorted(t.amount for t in await transactions_of(order_id) if t.reference == "dispute") == [
        -total,
        total,
    ]
    assert {"dispute_opened", "dispute_funds_withdrawn", "dispute_funds_reinstated", "dispute_closed"} <= set(
        event_types(order)
    )
    assert (
        await admin.refund(order_id, {"amount": 100, "reason": "requested_by_customer"})
    ).status_code == 201
