"""Disputes on the fake Stripe: the bank opens one (test control), Stripe's Dispute API shows and
updates it, `charge.dispute.*` events follow each step, and a disputed charge cannot be refunded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from devstack import fakestripe
from tests.devstack.conftest import CARD_OK, FakeStripe, WebhookInbox


def _refund_refusal(fake_stripe: FakeStripe, payment_intent_id: str) -> str | None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        fake_stripe.client.v1.refunds.create({"payment_intent": payment_intent_id, "amount": 100})
    code: str | None = refused.value.code
    return code


async def test_a_dispute_withdraws_the_funds_and_blocks_refunds(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox
) -> None:
    payment_intent_id = await fake_stripe.captured_payment(5000)
    fake_stripe.client.v1.refunds.create({"payment_intent": payment_intent_id, "amount": 1000})

    dispute = await fakestripe.open_dispute(fake_stripe.url, payment_intent_id, reason="product_not_received")

    assert dispute["id"].startswith("du_")
    assert dispute["object"] == "dispute"
    assert (dispute["amount"], dispute["currency"], dispute["payment_intent"]) == (
        4000,
        "eur",
        payment_intent_id,
    )
    assert (dispute["status"], dispute["reason"], dispute["is_charge_refundable"]) == (
        "needs_response",
        "product_not_received",
        False,
    )
    assert [(t["amount"], t["type"]) for t in dispute["balance_transactions"]] == [(-4000, "adjustment")]
    assert isinstance(dispute["created"], int)
    assert dispute["evidence"]["product_description"] is None
    assert dispute["metadata"] == {}
    charge = fake_stripe.client.v1.charges.retrieve(dispute["charge"])
    assert (charge.disputed, charge.payment_intent) == (True, payment_intent_id)

    events = await webhook_inbox.wait_for(
        dispute["id"], "charge.dispute.created", "charge.dispute.funds_withdrawn"
    )
    assert {e["data"]["object"]["status"] for e in events} == {"needs_response"}
    assert _refund_refusal(fake_stripe, payment_intent_id) == "charge_disputed"

    assert fake_stripe.client.v1.disputes.retrieve(dispute["id"]).to_dict() == dispute
    for where in ({"payment_intent": payment_intent_id}, {"charge": dispute["charge"]}):
        assert [d.id for d in fake_stripe.client.v1.disputes.list(where).data] == [dispute["id"]]


async def test_evidence_puts_a_dispute_under_review_and_closing_it_accepts_the_loss(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox
) -> None:
    payment_intent_id = await fake_stripe.captured_payment()
    dispute = await fakestripe.open_dispute(fake_stripe.url, payment_intent_id)
    disputes = fake_stripe.client.v1.disputes

    reviewed = disputes.update(
        dispute["id"],
        {
            "evidence": {"product_description": "A blue towel", "shipping_tracking_number": "1Z999"},
            "metadata": {"order_id": "order_1"},
        },
    )
    assert reviewed.status == "under_review"
    assert reviewed.evidence.product_description == "A blue towel"
    assert reviewed.metadata.to_dict() == {"order_id": "order_1"}
    assert reviewed.evidence_details.submission_count == 1
    (updated,) = await webhook_inbox.wait_for(dispute["id"], "charge.dispute.updated")
    assert updated["data"]["object"]["status"] == "under_review"
    assert updated["data"]["previous_attributes"]["status"] == "needs_response"

    lost = disputes.close(dispute["id"])
    assert lost.status == "lost"
    (closed,) = await webhook_inbox.wait_for(dispute["id"], "charge.dispute.closed")
    assert closed["data"]["object"]["status"] == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        disputes.close(dispute["id"])
    assert _refund_refusal(fake_stripe, payment_intent_id) == "charge_disputed"


@pytest.mark.parametrize(("outcome", "movements"), [("won", [-5000, 5000]), ("lost", [-5000])])
async def test_the_bank_decides_a_dispute(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox, outcome: str, movements: list[int]
) -> None:
    payment_intent_id = await fake_stripe.captured_payment(5000)
    dispute = await fakestripe.open_dispute(fake_stripe.url, payment_intent_id)

    resolved = await fakestripe.resolve_dispute(fake_stripe.url, dispute["id"], outcome)

    assert resolved["status"] == outcome
    assert [t["amount"] for t in resolved["balance_transactions"]] == movements
    closing = ["charge.dispute.closed"] + (["charge.dispute.funds_reinstated"] if outcome == "won" else [])
    events = await webhook_inbox.wait_for(dispute["id"], *closing)
    assert {e["data"]["object"]["status"] for e in events} == {outcome}
    if outcome == "won":
        refund = fake_stripe.client.v1.refunds.create({"payment_intent": payment_intent_id})
        assert refund.amount == 5000  # the funds came back: the charge can be refunded again
    else:
        assert _refund_refusal(fake_stripe, payment_intent_id) == "charge_disputed"
        assert not [
            e for e in webhook_inbox.about(dispute["id"]) if e["type"] == "charge.dispute.funds_reinstated"
        ]
    with pytest.raises(httpx.HTTPStatusError):
        await fakestripe.resolve_dispute(fake_stripe.url, dispute["id"], "won")  # closed once for all


async def test_only_a_captured_charge_can_be_disputed_and_only_once(fake_stripe: FakeStripe) -> None:
    authorized = fake_stripe.payment_intent()
    await fakestripe.pay(fake_stripe.client, authorized, CARD_OK)
    captured = await fake_stripe.captured_payment(5000)

    refusals: list[tuple[str, dict[str, Any]]] = [
        (authorized, {}),  # not captured
        (captured, {"amount": 5001}),  # more than the charge
        (captured, {"reason": "bored"}),  # not one of Stripe's reasons
    ]
    for payment_intent_id, options in refusals:
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await fakestripe.open_dispute(fake_stripe.url, payment_intent_id, **options)
        assert refused.value.response.status_code == 400, options
    await fakestripe.open_dispute(fake_stripe.url, captured)
    with pytest.raises(httpx.HTTPStatusError):
        await fakestripe.open_dispute(fake_stripe.url, captured)
