"""The fake Stripe as `make dev` runs it: its state (Idempotency-Keys too) survives a restart, in the
dev dir, never in /tmp."""

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
from tests.devstack.conftest import ROOT, FakeStripe, WebhookInbox, free_ports, listening


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
        paid = await pay(client, _create_payment_intent(client), "4242424242424242")
        assert paid.status == "requires_capture"
        assert paid.payment_method is not None

        with pytest.raises(stripe.CardError):
            await pay(client, _create_payment_intent(client), "4000000000000341")


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
