"""Scenarios of the needs-attention paths `python -m tests.histories.record` records (not collected
by the normal run): a checkout whose Stripe key is refused (two failed rounds, the pause's timer,
support's `retry_now`) then recovers; a checkout terminated by mistake and reset by support; an
order workflow stuck on its cancellation and retried by support."""

from __future__ import annotations

from typing import Any

from temporalio.testing import WorkflowEnvironment

from devstack.fakestripe import accept_all_keys, revoke_keys
from domain.ids import order_workflow_id
from domain.roles import Role
from tests.admin.conftest import bearer
from tests.checkout.conftest import MakeVariant, make_variant, pay, regions
from tests.checkout.test_needs_attention import Key, Store, completed_order, keys, store
from tests.conftest import eventually
from tests.histories.scenarios import save_workflow_history
from workflows.steps import FIRST_PAUSE, STEP_ATTEMPTS

__all__ = ["keys", "make_variant", "regions", "store"]


async def _retry(store: Store, path: str, support: dict[str, str]) -> dict[str, Any]:
    answer = await store.shopper.http.post(path, json={"reason": "recording a history"}, headers=support)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["retry"])


async def test_checkout_needs_attention_then_recovered(
    store: Store,
    make_variant: MakeVariant,
    temporal_env: WorkflowEnvironment,
    localstripe_url: str,
    keys: dict[Role, Key],
) -> None:
    cart_id, payment_intent_id, pending = await store.paid_with_our_key_refused(make_variant)
    assert pending.status_code == 503

    async def failed(attempts: int) -> bool:
        attention = await store.attention_of(payment_intent_id)
        return attention is not None and attention["attempts"] >= attempts

    await eventually(lambda: failed(2 * STEP_ATTEMPTS), within=FIRST_PAUSE.total_seconds() + 30)
    await accept_all_keys(localstripe_url)
    await _retry(store, f"/admin/checkouts/{payment_intent_id}/retry", bearer(keys[Role.SUPPORT].secret))
    await eventually(lambda: completed_order(store.shopper, cart_id))
    await save_workflow_history(temporal_env, "checkout_needs_attention_then_recovered", payment_intent_id)


async def test_checkout_terminated_then_reset(
    store: Store, make_variant: MakeVariant, temporal_env: WorkflowEnvironment, keys: dict[Role, Key]
) -> None:
    shopper = store.shopper
    cart_id, payment_intent_id = await store.open_checkout(make_variant)
    await temporal_env.client.get_workflow_handle(payment_intent_id).terminate(reason="by mistake")
    await eventually(lambda: store.attention_of(payment_intent_id))
    await _retry(store, f"/admin/checkouts/{payment_intent_id}/retry", bearer(keys[Role.SUPPORT].secret))
    await pay(payment_intent_id)
    await eventually(lambda: completed_order(shopper, cart_id))
    await save_workflow_history(temporal_env, "checkout_terminated_then_reset", payment_intent_id)


async def test_order_needs_attention_then_retried(
    store: Store,
    make_variant: MakeVariant,
    temporal_env: WorkflowEnvironment,
    localstripe_url: str,
    keys: dict[Role, Key],
) -> None:
    shopper = store.shopper
    support = bearer(keys[Role.SUPPORT].secret)
    payment_intent_id, order = await store.buy(make_variant)
    await revoke_keys(localstripe_url, [store.worker_key])
    canceling = await shopper.http.post(f"/admin/orders/{order['id']}/cancel", json={}, headers=support)
    assert canceling.status_code == 503, canceling.text
    await eventually(lambda: store.order_attention_of(order["id"]))
    await accept_all_keys(localstripe_url)
    await _retry(store, f"/admin/orders/{order['id']}/retry", support)

    async def canceled() -> bool:
        return bool((await store.order(order["id"]))["status"] == "canceled")

    await eventually(canceled)
    await save_workflow_history(
        temporal_env, "order_needs_attention_then_retried", order_workflow_id(payment_intent_id)
    )
