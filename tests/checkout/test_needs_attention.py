"""Support finds a stuck checkout with one admin call (or `NeedsAttention = true` in the Temporal
UI) and brings it back with one call; a Stripe key that stops working keeps checkouts open and
flagged until it works again (end to end: the dev server, the fake Stripe, the real worker)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from devstack.fakestripe import accept_all_keys, revoke_keys
from domain.ids import new_id
from domain.roles import NewApiKey, Role
from models import Cart, Checkout, Region, SalesChannel, SalesChannelStockLocation
from services.api_keys import create_key
from tests.admin.conftest import bearer
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    admin_headers,
    checkout_row,
    make_variant,
    orders_of_payment,
    pay,
    regions,
    stack_on_own_queue,
)
from tests.conftest import Outgoing, eventually
from workflows.steps import ATTENTION_PATCH, FIRST_PAUSE

__all__ = ["make_variant", "regions"]

ANSWER_WITHIN = 2.0
SLACK = 5.0


@dataclass
class Store:
    shopper: Shopper
    # The worker's own Stripe key: revoking it breaks this worker's Stripe calls only.
    worker_key: str
    fake_stripe_url: str
    task_queue: str

    async def open_checkout(self, make_variant: MakeVariant) -> tuple[str, str]:
        """A cart of one fresh variant and its payment session: (cart ID, PaymentIntent ID)."""
        cart, payment_intent_id = await self.shopper.open_checkout("eur", [(await make_variant(stock=5), 1)])
        return str(cart["id"]), payment_intent_id

    async def buy(self, make_variant: MakeVariant) -> tuple[str, dict[str, Any]]:
        """Paid and completed: (PaymentIntent ID, the order as `complete` answers it)."""
        cart_id, payment_intent_id = await self.open_checkout(make_variant)
        await pay(payment_intent_id)
        completed = await eventually(lambda: completed_order(self.shopper, cart_id))
        return payment_intent_id, dict(completed["order"])

    async def paid_with_our_key_refused(self, make_variant: MakeVariant) -> tuple[str, str, httpx.Response]:
        """A checkout paid by the customer while Stripe refuses the worker's key, and the
        storefront's `complete` (the fake sends no event for an authorization: this is the ask
        that makes the checkout re-read the payment). Returns (cart ID, PaymentIntent ID, that answer)."""
        cart_id, payment_intent_id = await self.open_checkout(make_variant)
        await revoke_keys(self.fake_stripe_url, [self.worker_key])
        await pay(payment_intent_id)  # the customer's card works: only our key is refused
        return cart_id, payment_intent_id, await self.shopper.complete(cart_id)

    async def flagged(self) -> dict[str, Any]:
        listed = await self.shopper.http.get(
            "/admin/checkouts", params={"needs_attention": "true"}, headers=admin_headers()
        )
        assert listed.status_code == 200, listed.text
        return dict(listed.json())

    async def order(self, order_id: str) -> dict[str, Any]:
        view = await self.shopper.http.get(f"/admin/orders/{order_id}", headers=admin_headers())
        assert view.status_code == 200, view.text
        return dict(view.json()["order"])

    async def order_attention_of(self, order_id: str) -> dict[str, Any] | None:
        for workflow in (await self.flagged())["workflows"]:
            if workflow["order_id"] == order_id and workflow["workflow_type"] == "OrderWorkflow":
                return dict(workflow["attention"])
        return None

    async def attention_of(self, payment_intent_id: str) -> dict[str, Any] | None:
        for checkout in (await self.flagged())["checkouts"]:
            if checkout["payment_intent_id"] == payment_intent_id:
                return dict(checkout["attention"])
        return None


@dataclass
class Key:
    name: str
    secret: str


@pytest.fixture
async def keys(database_url: str) -> dict[Role, Key]:
    """A live key per role, named for this test (`attention-<role>-…`)."""
    made = {}
    async with get_sessionmaker()() as session, session.begin():
        for role in Role:
            name = f"attention-{role}-{new_id('k').lower()}"
            created = await create_key(session, NewApiKey(name=name, role=role), actor="test")
            made[role] = Key(name=name, secret=created.secret)
    return made


@pytest.fixture
async def store(
    temporal_env: WorkflowEnvironment,
    regions: dict[str, Region],
    outgoing: Outgoing,
    localstripe_url: str,
    api_url: str,  # the fake Stripe's webhooks go to the stack's API
) -> AsyncIterator[Store]:
    """The store API in-process and a production worker on a queue of their own; the worker talks
    to Stripe with a key of its own (the API, creating PaymentIntents, with the usual one)."""
    worker_key = f"sk_test_{new_id('worker').lower()}"
    async with stack_on_own_queue(
        temporal_env,
        regions,
        outgoing,
        stripe_key=worker_key,
        checkout_answer_timeout_seconds=ANSWER_WITHIN,
        order_operation_wait_seconds=ANSWER_WITHIN,
    ) as (settings, shopper):
        try:
            yield Store(
                shopper=shopper,
                worker_key=worker_key,
                fake_stripe_url=localstripe_url,
                task_queue=settings.temporal_task_queue,
            )
        finally:
            await accept_all_keys(localstripe_url)


async def _needs_attention_in_temporal(temporal_env: WorkflowEnvironment, workflow_id: str) -> bool:
    query = f"NeedsAttention = true AND WorkflowId = '{workflow_id}'"
    return bool([run async for run in temporal_env.client.list_workflows(query)])


@pytest.mark.e2e
async def test_a_checkout_terminated_by_mistake_is_listed_retried_and_paid_once(
    store: Store, make_variant: MakeVariant, temporal_env: WorkflowEnvironment, keys: dict[Role, Key]
) -> None:
    shopper = store.shopper
    cart_id, payment_intent_id = await store.open_checkout(make_variant)
    handle = temporal_env.client.get_workflow_handle(payment_intent_id)
    terminated_run = (await handle.describe()).run_id
    await handle.terminate(reason="clicked the wrong workflow")

    attention = await eventually(lambda: store.attention_of(payment_intent_id))
    assert attention["reason"] == "run_terminated"
    assert "clicked the wrong workflow" in attention["last_failure"]

    retried = await shopper.http.post(
        f"/admin/checkouts/{payment_intent_id}/retry",
        json={"reason": "terminated by mistake"},
        headers=bearer(keys[Role.SUPPORT].secret),
    )
    assert retried.status_code == 200, retried.text
    retry = retried.json()["retry"]
    assert retry["action"] == "reset"
    assert retry["run_id"] != terminated_run
    assert (await handle.describe()).run_id == retry["run_id"]

    await pay(payment_intent_id)
    completed = await eventually(lambda: completed_order(shopper, cart_id))
    assert [order.id for order in await orders_of_payment(payment_intent_id)] == [completed["order"]["id"]]
    assert await store.attention_of(payment_intent_id) is None

    audit = await shopper.http.get(
        "/admin/audit-log", params={"entity_id": payment_intent_id}, headers=admin_headers()
    )
    [entry] = audit.json()["entries"]
    assert (entry["actor"], entry["action"]) == (keys[Role.SUPPORT].name, "checkout.retried")
    assert entry["data"]["reason"] == "terminated by mistake"


async def completed_order(shopper: Shopper, cart_id: str) -> dict[str, Any] | None:
    answer = await shopper.complete(cart_id)
    return dict(answer.json()) if answer.status_code == 200 else None


@pytest.mark.e2e
async def test_a_revoked_stripe_key_keeps_the_checkout_open_and_flagged_until_it_works_again(
    store: Store, make_variant: MakeVariant, temporal_env: WorkflowEnvironment, localstripe_url: str
) -> None:
    shopper = store.shopper
    # The storefront asks for its order: answered within the bound while the checkout cannot
    # read the payment.
    started = time.monotonic()
    cart_id, payment_intent_id, pending = await store.paid_with_our_key_refused(make_variant)
    took = time.monotonic() - started
    assert pending.status_code == 503, pending.text
    assert pending.json()["error"]["code"] == "checkout_pending"
    assert int(pending.headers["Retry-After"]) > 0
    assert took < ANSWER_WITHIN + SLACK

    # Every attempt of the first round (three) fails: listed, with the failure, in Temporal too.
    attention = await eventually(lambda: store.attention_of(payment_intent_id))
    assert attention["reason"] == "configuration_error"
    assert attention["step"] == "retrieve_payment_intent"
    assert attention["attempts"] >= 3
    assert "API Key" in attention["last_failure"]
    assert await eventually(lambda: _needs_attention_in_temporal(temporal_env, payment_intent_id))

    # Open, not failed.
    row = await checkout_row(payment_intent_id)
    assert row is not None and row.status == "awaiting_payment"
    running = await temporal_env.client.get_workflow_handle(payment_intent_id).describe()
    assert running.status == WorkflowExecutionStatus.RUNNING

    # The key works again: the next round (after its pause, no one asking) places the order.
    await accept_all_keys(localstripe_url)
    completed = await eventually(
        lambda: completed_order(shopper, cart_id), within=FIRST_PAUSE.total_seconds() * 2 + 30
    )
    assert [order.id for order in await orders_of_payment(payment_intent_id)] == [completed["order"]["id"]]
    assert await store.attention_of(payment_intent_id) is None
    assert not await _needs_attention_in_temporal(temporal_env, payment_intent_id)


@pytest.mark.e2e
async def test_support_retries_a_stuck_step_now(
    store: Store, make_variant: MakeVariant, localstripe_url: str, keys: dict[Role, Key]
) -> None:
    shopper = store.shopper
    cart_id, payment_intent_id, pending = await store.paid_with_our_key_refused(make_variant)
    assert pending.status_code == 503
    await eventually(lambda: store.attention_of(payment_intent_id))

    as_viewer = await shopper.http.post(
        f"/admin/checkouts/{payment_intent_id}/retry",
        json={"reason": "key rotated"},
        headers=bearer(keys[Role.VIEWER].secret),
    )
    assert (as_viewer.status_code, as_viewer.json()["error"]["code"]) == (403, "forbidden")

    await accept_all_keys(localstripe_url)
    retried = await shopper.http.post(
        f"/admin/checkouts/{payment_intent_id}/retry",
        json={"reason": "key rotated"},
        headers=bearer(keys[Role.SUPPORT].secret),
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["retry"]["action"] == "step_retried"
    # Retried at once, well before the round's pause would have ended.
    completed = await eventually(
        lambda: completed_order(shopper, cart_id), within=FIRST_PAUSE.total_seconds()
    )
    assert [order.id for order in await orders_of_payment(payment_intent_id)] == [completed["order"]["id"]]


@pytest.mark.e2e
async def test_a_completed_checkout_is_not_retried_and_an_unknown_one_is_not_found(
    store: Store, make_variant: MakeVariant, temporal_env: WorkflowEnvironment, keys: dict[Role, Key]
) -> None:
    shopper = store.shopper
    payment_intent_id, order = await store.buy(make_variant)
    support = bearer(keys[Role.SUPPORT].secret)

    async def retry(path: str) -> httpx.Response:
        return await shopper.http.post(path, json={"reason": "just in case"}, headers=support)

    async def closed() -> bool:
        answer = await retry(f"/admin/checkouts/{payment_intent_id}/retry")
        return answer.status_code == 409 and answer.json()["error"]["code"] == "workflow_completed"

    assert await eventually(closed)  # the run closes just after answering `complete`
    # Steps that succeed at once cost nothing more: no NeedsAttention upsert, no marker, no timer.
    history = await temporal_env.client.get_workflow_handle(payment_intent_id).fetch_history()
    upserted = {
        name
        for event in history.events
        if event.HasField("upsert_workflow_search_attributes_event_attributes")
        for name in event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    }
    assert "NeedsAttention" not in upserted
    patches = {
        json.loads(event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"
    }
    assert ATTENTION_PATCH not in patches
    assert not [event for event in history.events if event.HasField("timer_fired_event_attributes")]
    unknown = await retry("/admin/checkouts/pi_unknown/retry")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "workflow_not_found")
    an_order = await retry(f"/admin/checkouts/{payment_intent_id}:order/retry")  # not a checkout
    assert (an_order.status_code, an_order.json()["error"]["code"]) == (404, "workflow_not_found")
    no_order = await retry("/admin/orders/order_unknown/retry")
    assert (no_order.status_code, no_order.json()["error"]["code"]) == (404, "order_not_found")
    # The order's workflow runs (shipments, refunds to come) and nothing fails: nothing to retry.
    running = await retry(f"/admin/orders/{order['id']}/retry")
    assert (running.status_code, running.json()["error"]["code"]) == (409, "workflow_not_stuck")
    blank = await shopper.http.post(
        f"/admin/checkouts/{payment_intent_id}/retry", json={"reason": "  "}, headers=support
    )
    assert (blank.status_code, blank.json()["error"]["code"]) == (400, "invalid_request")


@pytest.mark.e2e
async def test_an_order_workflow_stuck_on_a_refused_key_is_listed_and_retried_by_support(
    store: Store, make_variant: MakeVariant, localstripe_url: str, keys: dict[Role, Key]
) -> None:
    shopper = store.shopper
    _, order = await store.buy(make_variant)
    await revoke_keys(localstripe_url, [store.worker_key])

    support = bearer(keys[Role.SUPPORT].secret)
    canceling = await shopper.http.post(
        f"/admin/orders/{order['id']}/cancel", json={"reason": "customer asked"}, headers=support
    )
    assert (canceling.status_code, canceling.json()["error"]["code"]) == (503, "operation_pending")
    attention = await eventually(lambda: store.order_attention_of(order["id"]))
    assert (attention["step"], attention["reason"]) == ("cancel_payment_intent", "configuration_error")

    await accept_all_keys(localstripe_url)
    retried = await shopper.http.post(
        f"/admin/orders/{order['id']}/retry", json={"reason": "Stripe key rotated"}, headers=support
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["retry"]["action"] == "step_retried"

    async def canceled() -> dict[str, Any] | None:
        view = await store.order(order["id"])
        return view if view["status"] == "canceled" else None

    view = await eventually(canceled, within=FIRST_PAUSE.total_seconds())
    [retry_event] = [event for event in view["events"] if event["type"] == "workflow_retried"]
    assert retry_event["actor"] == keys[Role.SUPPORT].name
    assert retry_event["data"]["reason"] == "Stripe key rotated"
    assert await store.order_attention_of(order["id"]) is None


@pytest.mark.e2e
async def test_a_sales_channel_without_stock_location_holds_the_checkout_open_until_it_is_mapped(
    store: Store, make_variant: MakeVariant, regions: dict[str, Region], keys: dict[Role, Key]
) -> None:
    shopper = store.shopper
    cart = await shopper.cart("eur", [(await make_variant(stock=5), 1)])
    async with get_sessionmaker()() as session, session.begin():
        channel = SalesChannel(id=new_id("sc"), name=f"Unmapped {new_id('sc')}")
        session.add(channel)
        await session.flush()
        await session.execute(update(Cart).where(Cart.id == cart["id"]).values(sales_channel_id=channel.id))

    started = time.monotonic()
    pending = await shopper.payment_session(cart["id"])
    assert (pending.status_code, pending.json()["error"]["code"]) == (503, "checkout_pending")
    assert time.monotonic() - started < ANSWER_WITHIN + SLACK
    [checkout] = await checkouts_of_cart(cart["id"])
    attention = await eventually(lambda: store.attention_of(checkout.payment_intent_id))
    assert (attention["step"], attention["reason"]) == ("reserve_cart_inventory", "configuration_error")
    assert "location_not_mapped" in attention["last_failure"]

    async with get_sessionmaker()() as session, session.begin():
        location_id = await session.scalar(
            select(SalesChannelStockLocation.stock_location_id).where(
                SalesChannelStockLocation.sales_channel_id == regions["eur"].sales_channel_id
            )
        )
        session.add(SalesChannelStockLocation(sales_channel_id=channel.id, stock_location_id=location_id))
    retried = await shopper.http.post(
        f"/admin/checkouts/{checkout.payment_intent_id}/retry",
        json={"reason": "mapped the channel"},
        headers=bearer(keys[Role.SUPPORT].secret),
    )
    assert retried.status_code == 200, retried.text

    session_now = await eventually(lambda: _answered(shopper.payment_session(cart["id"])))
    assert session_now["payment_session"]["payment_intent_id"] == checkout.payment_intent_id
    await pay(checkout.payment_intent_id)
    completed = await eventually(lambda: completed_order(shopper, cart["id"]))
    assert [o.id for o in await orders_of_payment(checkout.payment_intent_id)] == [completed["order"]["id"]]
    assert await store.attention_of(checkout.payment_intent_id) is None


async def _answered(request: Awaitable[httpx.Response]) -> dict[str, Any] | None:
    answer = await request
    return dict(answer.json()) if answer.status_code == 200 else None


async def checkouts_of_cart(cart_id: str) -> list[Checkout]:
    async with get_sessionmaker()() as session:
        return list(await session.scalars(select(Checkout).where(Checkout.cart_id == cart_id)))


@pytest.mark.e2e
async def test_a_checkout_whose_workflow_task_keeps_failing_is_listed(
    store: Store, temporal_env: WorkflowEnvironment, keys: dict[Role, Key]
) -> None:
    # A start whose input the workflow cannot read (as from an older or broken client): its
    # first workflow task fails, again and again; no checkout row exists.
    workflow_id = f"pi_{new_id('broken')}"
    await temporal_env.client.start_workflow(
        "CheckoutWorkflow", {"payment_intent": "no such field"}, id=workflow_id, task_queue=store.task_queue
    )

    async def listed() -> dict[str, Any] | None:
        flagged = [w for w in (await store.flagged())["workflows"] if w["workflow_id"] == workflow_id]
        return flagged[0] if flagged else None

    workflow = await eventually(listed)
    assert (workflow["workflow_type"], workflow["status"]) == ("CheckoutWorkflow", "RUNNING")
    assert (workflow["attention"]["step"], workflow["attention"]["reason"]) == (
        "workflow_task",
        "workflow_task_failing",
    )
    assert "decoding arguments" in workflow["attention"]["last_failure"]
    assert workflow["attention"]["attempts"] >= 1
    # Its code never got past a workflow task: nothing to reset to (a deployed fix is picked up).
    retried = await store.shopper.http.post(
        f"/admin/checkouts/{workflow_id}/retry",
        json={"reason": "try"},
        headers=bearer(keys[Role.SUPPORT].secret),
    )
    assert (retried.status_code, retried.json()["error"]["code"]) == (409, "workflow_not_resettable")
    await temporal_env.client.get_workflow_handle(workflow_id).terminate(reason="test over")
