"""Idempotency-Key on the fake Stripe as on Stripe: a retry answers the first response and makes
nothing twice; a key reused for another request is an `idempotency_error`; a key still in flight
is a 409."""

from __future__ import annotations

import asyncio

import pytest
import stripe

from devstack import fakestripe
from domain.ids import new_id
from tests.conftest import eventually
from tests.devstack.conftest import CARD_DECLINED, FakeStripe


def _refunds_of(fake_stripe: FakeStripe, payment_intent_id: str) -> list[stripe.Refund]:
    return list(fake_stripe.client.v1.refunds.list({"payment_intent": payment_intent_id}).data)


async def test_the_same_key_and_parameters_answer_the_first_response(fake_stripe: FakeStripe) -> None:
    payment_intent_id = await fake_stripe.captured_payment()
    key = new_id("refund-key")
    params = {"payment_intent": payment_intent_id, "amount": 1500}

    first = fake_stripe.client.v1.refunds.create(params, {"idempotency_key": key})
    again = fake_stripe.client.v1.refunds.create(params, {"idempotency_key": key})

    assert again.id == first.id
    assert again.to_dict() == first.to_dict()
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert [refund.id for refund in _refunds_of(fake_stripe, payment_intent_id)] == [first.id]


async def test_a_saved_decline_is_answered_again_without_a_second_charge(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client
    payment_intent_id = fake_stripe.payment_intent()
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": CARD_DECLINED, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    client.v1.payment_intents.update(payment_intent_id, {"payment_method": method.id})
    key = new_id("confirm-key")
    declines = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as declined:
            client.v1.payment_intents.confirm(payment_intent_id, {}, {"idempotency_key": key})
        declines.append(declined.value)
    assert declines[1].json_body == declines[0].json_body
    assert declines[1].headers["Idempotent-Replayed"] == "true"
    charge_id = declines[0].json_body["error"]["charge"]
    assert client.v1.payment_intents.retrieve(payment_intent_id).to_dict()["latest_charge"]["id"] == charge_id


async def test_the_same_key_with_other_parameters_is_an_idempotency_error(fake_stripe: FakeStripe) -> None:
    payment_intent_id = await fake_stripe.captured_payment()
    key = new_id("refund-key")
    first = fake_stripe.client.v1.refunds.create(
        {"payment_intent": payment_intent_id, "amount": 1500}, {"idempotency_key": key}
    )
    with pytest.raises(stripe.IdempotencyError) as reused:
        fake_stripe.client.v1.refunds.create(
            {"payment_intent": payment_intent_id, "amount": 2500}, {"idempotency_key": key}
        )
    assert reused.value.http_status == 400
    error = reused.value.json_body["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the same parameters they were first used with."
    )
    assert [refund.id for refund in _refunds_of(fake_stripe, payment_intent_id)] == [first.id]


async def test_the_same_key_on_another_endpoint_is_an_idempotency_error(fake_stripe: FakeStripe) -> None:
    payment_intent_id = await fake_stripe.captured_payment()
    key = new_id("refund-key")
    fake_stripe.client.v1.refunds.create({"payment_intent": payment_intent_id}, {"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as reused:
        fake_stripe.client.v1.payment_intents.create(
            {"amount": 5000, "currency": "eur"}, {"idempotency_key": key}
        )
    assert reused.value.http_status == 400
    assert reused.value.json_body["error"]["message"].startswith(
        "Keys for idempotent requests can only be used for the same endpoint they were first used for"
        " ('/v1/payment_intents' vs '/v1/refunds')."
    )


async def test_a_key_still_in_flight_is_a_409_and_makes_nothing(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client
    payment_intent_id = await fake_stripe.captured_payment()
    key = new_id("refund-key")
    params = {"payment_intent": payment_intent_id, "amount": 1000}
    await fakestripe.delay_requests(fake_stripe.url, "/v1/refunds", 1.5)

    first = asyncio.create_task(client.v1.refunds.create_async(params, {"idempotency_key": key}))

    async def made() -> list[stripe.Refund]:
        return _refunds_of(fake_stripe, payment_intent_id)

    # The refund is made at once; its answer is held, so the key is still in flight.
    (made_refund,) = await eventually(made)
    assert not first.done()
    with pytest.raises(stripe.APIError) as conflict:
        await client.v1.refunds.create_async(params, {"idempotency_key": key})
    assert conflict.value.http_status == 409
    error = conflict.value.json_body["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")

    refund = await first
    retried = await client.v1.refunds.create_async(params, {"idempotency_key": key})
    assert refund.id == retried.id == made_refund.id
    assert [r.id for r in _refunds_of(fake_stripe, payment_intent_id)] == [refund.id]


def test_requests_with_their_own_keys_make_their_own_objects(fake_stripe: FakeStripe) -> None:
    params = {"amount": 5000, "currency": "eur"}
    # The SDK adds a fresh random key to every POST it is given none for.
    first = fake_stripe.client.v1.payment_intents.create(params)
    second = fake_stripe.client.v1.payment_intents.create(params)
    assert first.id != second.id
