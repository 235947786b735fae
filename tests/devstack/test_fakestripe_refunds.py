"""Refunds on the fake Stripe as on Stripe: never above what remains of the charge, refused before
capture, `reason` and `metadata` kept, `refund.*` and `charge.refunded` events, and a refund that
fails later."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from devstack import fakestripe
from domain.ids import new_id
from tests.devstack.conftest import CARD_OK, FakeStripe, WebhookInbox


def _charge(fake_stripe: FakeStripe, payment_intent_id: str) -> dict[str, Any]:
    """The PaymentIntent's latest charge, as our code reads it (localstripe expands it)."""
    charge: dict[str, Any] = fake_stripe.client.v1.payment_intents.retrieve(payment_intent_id).to_dict()[
        "latest_charge"
    ]
    return charge


def _refund(fake_stripe: FakeStripe, payment_intent_id: str, amount: int | None = None) -> stripe.Refund:
    params: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    return fake_stripe.client.v1.refunds.create(params)


def _refused(fake_stripe: FakeStripe, payment_intent_id: str, amount: int | None = None) -> dict[str, Any]:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _refund(fake_stripe, payment_intent_id, amount)
    assert refused.value.http_status == 400
    error: dict[str, Any] = refused.value.json_body["error"]
    assert error["type"] == "invalid_request_error"
    return error


async def test_no_refund_above_what_remains_on_the_charge(fake_stripe: FakeStripe) -> None:
    payment_intent_id = await fake_stripe.captured_payment(5000)

    too_much = _refused(fake_stripe, payment_intent_id, 999_999)
    assert too_much["param"] == "amount"
    assert "code" not in too_much
    assert too_much["message"] == (
        "Refund amount (€9,999.99) is greater than unrefunded amount on charge (€50.00)"
    )
    assert _charge(fake_stripe, payment_intent_id)["amount_refunded"] == 0

    assert _refund(fake_stripe, payment_intent_id, 3000).amount == 3000
    assert _refused(fake_stripe, payment_intent_id, 2001)["param"] == "amount"
    assert _refund(fake_stripe, payment_intent_id).amount == 2000  # no amount: what remains

    charge = _charge(fake_stripe, payment_intent_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (5000, True)
    nothing_left = _refused(fake_stripe, payment_intent_id, 1)
    assert nothing_left["code"] == "charge_already_refunded"
    assert nothing_left["message"] == f"Charge {charge['id']} has already been refunded."


async def test_refunds_need_a_captured_charge(fake_stripe: FakeStripe) -> None:
    authorized = fake_stripe.payment_intent()
    await fakestripe.pay(fake_stripe.client, authorized, CARD_OK)
    by_payment_intent = _refused(fake_stripe, authorized)
    assert "cancel the PaymentIntent" in by_payment_intent["message"]
    with pytest.raises(stripe.InvalidRequestError, match="uncaptured Charge"):
        fake_stripe.client.v1.refunds.create({"charge": _charge(fake_stripe, authorized)["id"]})

    unpaid = fake_stripe.payment_intent()
    assert _refused(fake_stripe, unpaid)["message"] == (
        f"This PaymentIntent ({unpaid}) does not have a successful charge to refund."
    )
    fake_stripe.client.v1.payment_intents.cancel(authorized)
    assert "does not have a successful charge" in _refused(fake_stripe, authorized)["message"]


async def test_reason_and_metadata_are_kept(fake_stripe: FakeStripe) -> None:
    payment_intent_id = await fake_stripe.captured_payment()
    refund = fake_stripe.client.v1.refunds.create(
        {
            "payment_intent": payment_intent_id,
            "amount": 700,
            "reason": "requested_by_customer",
            "metadata": {"order_id": "order_1"},
        }
    )
    again = fake_stripe.client.v1.refunds.retrieve(refund.id)
    assert (again.reason, again.metadata.to_dict(), again.payment_intent) == (
        "requested_by_customer",
        {"order_id": "order_1"},
        payment_intent_id,
    )
    with pytest.raises(stripe.InvalidRequestError) as bad_reason:
        fake_stripe.client.v1.refunds.create({"payment_intent": payment_intent_id, "reason": "changed_mind"})
    assert bad_reason.value.param == "reason"


async def test_every_refund_sends_refund_created_and_charge_refunded(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox
) -> None:
    payment_intent_id = await fake_stripe.captured_payment(5000)
    key = new_id("refund-key")
    partial = fake_stripe.client.v1.refunds.create(
        {"payment_intent": payment_intent_id, "amount": 1200}, {"idempotency_key": key}
    )

    (created,) = await webhook_inbox.wait_for(partial.id, "refund.created")
    (refunded,) = await webhook_inbox.wait_for(payment_intent_id, "charge.refunded")
    refund = created["data"]["object"]
    assert (refund["object"], refund["id"], refund["amount"], refund["status"]) == (
        "refund",
        partial.id,
        1200,
        "succeeded",
    )
    assert (refund["payment_intent"], refund["charge"], refund["currency"]) == (
        payment_intent_id,
        partial.charge,
        "eur",
    )
    assert created["request"]["idempotency_key"] == key
    charge = refunded["data"]["object"]
    assert (charge["object"], charge["id"], charge["payment_intent"]) == (
        "charge",
        partial.charge,
        payment_intent_id,
    )
    assert (charge["amount"], charge["amount_captured"], charge["amount_refunded"], charge["refunded"]) == (
        5000,
        5000,
        1200,
        False,
    )
    assert [r["id"] for r in charge["refunds"]["data"]] == [partial.id]

    rest = _refund(fake_stripe, payment_intent_id)
    await webhook_inbox.wait_for(rest.id, "refund.created")
    final = [
        event["data"]["object"]
        for event in await webhook_inbox.wait_for(payment_intent_id, "charge.refunded")
        if event["data"]["object"]["refunded"]
    ]
    assert [(c["amount_refunded"], len(c["refunds"]["data"])) for c in final] == [(5000, 2)]


async def test_a_refund_can_fail_later_and_its_money_comes_back(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox
) -> None:
    payment_intent_id = await fake_stripe.captured_payment(5000)
    refund = _refund(fake_stripe, payment_intent_id, 2000)

    failed = await fakestripe.fail_refund(fake_stripe.url, refund.id, "expired_or_canceled_card")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "expired_or_canceled_card")
    money_back = fake_stripe.client.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (money_back.amount, money_back.type, money_back.source) == (2000, "refund_failure", refund.id)

    events = {
        e["type"]: e for e in await webhook_inbox.wait_for(refund.id, "refund.failed", "refund.updated")
    }
    assert events["refund.failed"]["data"]["object"]["status"] == "failed"
    updated = events["refund.updated"]["data"]
    assert (updated["object"]["status"], updated["previous_attributes"]["status"]) == ("failed", "succeeded")

    assert fake_stripe.client.v1.refunds.retrieve(refund.id).status == "failed"
    listed = fake_stripe.client.v1.refunds.list({"payment_intent": payment_intent_id}).data
    assert [(r.id, r.status) for r in listed] == [(refund.id, "failed")]
    assert _charge(fake_stripe, payment_intent_id)["amount_refunded"] == 0
    assert _refund(fake_stripe, payment_intent_id).amount == 5000  # the failed 2000 can be refunded again

    with pytest.raises(httpx.HTTPStatusError) as again:
        await fakestripe.fail_refund(fake_stripe.url, refund.id)
    assert again.value.response.status_code == 400  # only a succeeded refund can fail


async def test_the_charge_shows_what_was_captured_and_refunded(fake_stripe: FakeStripe) -> None:
    payment_intent_id = fake_stripe.payment_intent(5000)
    await fakestripe.pay(fake_stripe.client, payment_intent_id, CARD_OK)
    authorized = _charge(fake_stripe, payment_intent_id)
    assert (authorized["payment_intent"], authorized["amount_captured"], authorized["disputed"]) == (
        payment_intent_id,
        0,
        False,
    )

    fake_stripe.client.v1.payment_intents.capture(payment_intent_id, {"amount_to_capture": 3000})
    captured = _charge(fake_stripe, payment_intent_id)
    assert (captured["id"], captured["amount_captured"]) == (authorized["id"], 3000)
    # The uncaptured 2000 went back at capture; only the captured 3000 can be refunded.
    assert _refused(fake_stripe, payment_intent_id, 3001)["param"] == "amount"
    refund = _refund(fake_stripe, payment_intent_id, 3000)
    charge = _charge(fake_stripe, payment_intent_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (5000, True)
    assert refund.id in [r["id"] for r in charge["refunds"]["data"]]
