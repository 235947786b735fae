"""The fake Stripe as `make dev` runs it: its state (Idempotency-Keys too) survives a restart, in the
dev dir, never in /tmp; and a PaymentIntent is paid as on Stripe, through the SDK or Stripe.js,
a declined card replaced by another."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import stripe

from devstack.fakestripe import pay
from devstack.fakestripe.idempotency import KEEP_SECONDS, SavedResponse, forget_expired
from devstack.fakestripe.payments import DECLINED_WHEN_CHARGED
from tests.devstack.conftest import (
    CARD_DECLINED,
    CARD_OK,
    ROOT,
    FakeStripe,
    WebhookInbox,
    free_ports,
    listening,
)
from tests.stripe_js import confirm_card_payments


@contextmanager
def fakestripe(port: int, state_file: Path | None, log: Path) -> Iterator[stripe.StripeClient]:
    argv = [sys.executable, "-m", "devstack.fakestripe", "--port", str(port)]
    if state_file is not None:
        argv += ["--state-file", str(state_file)]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "localstripe did not listen within 30 s"
            time.sleep(0.05)
        yield stripe.StripeClient("sk_test_devstack", base_addresses={"api": f"http://127.0.0.1:{port}"})
    finally:
        process.terminate()
        assert process.wait(timeout=15) is not None


def _create_payment_intent(client: stripe.StripeClient) -> str:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "eur",
            "capture_method": "manual",
            "metadata": {"cart_id": "cart_x"},
        }
    )
    return str(intent.id)


def test_payment_intents_survive_a_restart(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    state = tmp_path / "dev" / "localstripe.pickle"
    log = tmp_path / "localstripe.log"
    with fakestripe(port, state, log) as client:
        intent_id = _create_payment_intent(client)
    assert state.is_file()

    with fakestripe(port, state, log) as client:
        again = client.v1.payment_intents.retrieve(intent_id)
    assert again.amount == 4200
    assert again.metadata["cart_id"] == "cart_x"

    # Plain localstripe would have saved it in this shared file (others' localstripes may write it).
    shared = Path("/tmp/localstripe.pickle")
    assert not shared.exists() or intent_id.encode() not in shared.read_bytes()
    assert intent_id.encode() in state.read_bytes()


def test_without_a_state_file_nothing_is_kept(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    log = tmp_path / "localstripe.log"
    with fakestripe(port, None, log) as client:
        intent_id = _create_payment_intent(client)
    with fakestripe(port, None, log) as client:
        try:
            client.v1.payment_intents.retrieve(intent_id)
        except stripe.InvalidRequestError:
            pass
        else:
            raise AssertionError("a memory-only localstripe remembered a PaymentIntent across restarts")


def test_an_unreadable_state_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    state = tmp_path / "localstripe.pickle"
    state.write_bytes(b"\x80\x05not a pickle")
    with fakestripe(port, state, tmp_path / "localstripe.log") as client:
        _create_payment_intent(client)
    assert (tmp_path / "localstripe.pickle.broken").read_bytes() == b"\x80\x05not a pickle"
    assert "unreadable" in (tmp_path / "localstripe.log").read_text()


async def test_pay_authorizes_like_stripe_js_and_a_declined_card_raises(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    with fakestripe(port, None, tmp_path / "localstripe.log") as client:
        paid = await pay(client, _create_payment_intent(client), CARD_OK)
        assert paid.status == "requires_capture"
        assert paid.payment_method is not None

        with pytest.raises(stripe.CardError):
            await pay(client, _create_payment_intent(client), CARD_DECLINED)


def test_idempotency_keys_survive_a_restart(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    state = tmp_path / "localstripe.pickle"
    log = tmp_path / "localstripe.log"
    params = {"amount": 4200, "currency": "eur", "capture_method": "manual"}
    with fakestripe(port, state, log) as client:
        first = client.v1.payment_intents.create(params, {"idempotency_key": "cart_x:v1:a0"})
    with fakestripe(port, state, log) as client:
        again = client.v1.payment_intents.create(params, {"idempotency_key": "cart_x:v1:a0"})
        with pytest.raises(stripe.IdempotencyError):
            client.v1.payment_intents.create({**params, "amount": 4300}, {"idempotency_key": "cart_x:v1:a0"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"


def test_keys_older_than_24_hours_are_forgotten() -> None:
    def saved(at: float) -> SavedResponse:
        return SavedResponse("POST", "/v1/refunds", "{}", 200, b"", "application/json", at)

    now = 1_900_000_000.0
    ledger = {
        "old": saved(now - KEEP_SECONDS - 1),
        "day-old": saved(now - KEEP_SECONDS),
        "new": saved(now - 60),
    }
    forget_expired(ledger, now)
    assert list(ledger) == ["new"]


async def test_a_declined_payment_intent_can_be_paid_with_another_card(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox
) -> None:
    client = fake_stripe.client
    payment_intent_id = fake_stripe.payment_intent()
    with pytest.raises(stripe.CardError) as declined:
        await pay(client, payment_intent_id, CARD_DECLINED)
    error = declined.value.json_body["error"]
    assert (declined.value.http_status, error["type"], error["code"]) == (402, "card_error", "card_declined")
    # What Stripe.js hands the storefront as error.payment_intent.
    assert error["payment_intent"]["id"] == payment_intent_id
    assert error["payment_intent"]["status"] == "requires_payment_method"

    waiting = client.v1.payment_intents.retrieve(payment_intent_id)
    assert waiting.status == "requires_payment_method"
    assert waiting.payment_method is None  # the declined card is detached, as on Stripe
    assert waiting.last_payment_error is not None
    assert (waiting.last_payment_error.type, waiting.last_payment_error.code) == (
        "card_error",
        "card_declined",
    )
    declined_method = waiting.last_payment_error.payment_method
    assert declined_method is not None
    (failed,) = await webhook_inbox.wait_for(payment_intent_id, "payment_intent.payment_failed")
    assert failed["data"]["object"]["status"] == "requires_payment_method"

    paid = await pay(client, payment_intent_id, CARD_OK)
    assert paid.status == "requires_capture"
    assert paid.payment_method not in (None, declined_method.id)
    captured = client.v1.payment_intents.capture(payment_intent_id)
    assert captured.status == "succeeded"
    assert captured.to_dict()["latest_charge"]["id"] != error["charge"]


@pytest.mark.parametrize("card", [CARD_DECLINED, *DECLINED_WHEN_CHARGED])
async def test_stripe_decline_test_cards_are_declined_at_confirmation(
    fake_stripe: FakeStripe, card: str
) -> None:
    """4000 0000 0000 0002 and the other decline cards of Stripe's docs decline, as on Stripe."""
    payment_intent_id = fake_stripe.payment_intent()
    with pytest.raises(stripe.CardError) as declined:
        await pay(fake_stripe.client, payment_intent_id, card)
    assert (declined.value.http_status, declined.value.code) == (402, "card_declined")
    assert (
        fake_stripe.client.v1.payment_intents.retrieve(payment_intent_id).status == "requires_payment_method"
    )


def test_a_payment_intent_that_is_paid_cannot_be_confirmed_again(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client
    payment_intent_id = fake_stripe.payment_intent()
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": CARD_OK, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    # Stripe.js's way: the payment method with the confirmation, in one call.
    paid = client.v1.payment_intents.confirm(payment_intent_id, {"payment_method": method.id})
    assert paid.status == "requires_capture"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(payment_intent_id, {"payment_method": method.id})
    assert refused.value.http_status == 400
    assert refused.value.code == "payment_intent_unexpected_state"


async def test_stripe_js_pays_with_another_card_after_a_decline(fake_stripe: FakeStripe) -> None:
    """A storefront page: the shopper's first card is declined, the second one is authorized."""
    client = fake_stripe.client
    intent = client.v1.payment_intents.create(
        params={"amount": 3100, "currency": "eur", "capture_method": "manual"}
    )
    declined, paid = await confirm_card_payments(
        fake_stripe.url, str(intent.client_secret), [CARD_DECLINED, CARD_OK]
    )
    assert declined["error"]["type"] == "card_error"
    assert declined["error"]["code"] == "card_declined"
    assert declined["error"]["payment_intent"]["status"] == "requires_payment_method"
    assert paid["paymentIntent"]["id"] == intent.id
    assert paid["paymentIntent"]["status"] == "requires_capture"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


async def test_stripe_js_needs_the_payment_intents_own_client_secret(fake_stripe: FakeStripe) -> None:
    intent = fake_stripe.client.v1.payment_intents.create(params={"amount": 3100, "currency": "eur"})
    (refused,) = await confirm_card_payments(fake_stripe.url, f"{intent.id}_secret_forged", [CARD_OK])
    assert "paymentIntent" not in refused
    assert fake_stripe.client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


async def test_events_are_unique_dated_newest_first_and_delivered_signed(
    fake_stripe: FakeStripe, webhook_inbox: WebhookInbox
) -> None:
    started = int(time.time())
    payment_intent_id = await fake_stripe.captured_payment()
    refund = fake_stripe.client.v1.refunds.create({"payment_intent": payment_intent_id, "amount": 100})
    # The inbox keeps only events whose Stripe-Signature verifies with the registered secret.
    (delivered,) = await webhook_inbox.wait_for(refund.id, "refund.created")

    listed = fake_stripe.client.v1.events.list({"limit": 10_000}).data
    ids = [event.id for event in listed]
    assert len(ids) == len(set(ids))
    assert delivered["id"] in ids
    assert all(event.id.startswith("evt_") and isinstance(event.created, int) for event in listed)
    assert [event.created for event in listed] == sorted((event.created for event in listed), reverse=True)
    assert delivered["created"] >= started
