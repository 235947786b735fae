"""The scenarios `python -m tests.histories.record` records (not collected by the normal run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from devstack.fakestripe import open_dispute, resolve_dispute
from domain.ids import order_workflow_id
from tests.checkout.conftest import MakeVariant, Shopper, buy, make_variant, regions, shopper
from tests.conftest import eventually
from tests.orders.conftest import Admin, admin, event_types, fake_stripe_url

__all__ = ["admin", "make_variant", "regions", "shopper"]

HERE = Path(__file__).resolve().parent


async def _save(temporal_env: WorkflowEnvironment, name: str, payment_intent_id: str) -> None:
    if name not in os.environ.get("RECORD_HISTORIES", "").split(","):
        pytest.skip("run through python -m tests.histories.record")
    path = HERE / f"{name}.json"
    assert not path.exists(), f"{path} is recorded already"
    history = await temporal_env.client.get_workflow_handle(
        order_workflow_id(payment_intent_id)
    ).fetch_history()
    path.write_text(history.to_json())


async def _settled(admin: Admin, order_id: str, emails: int) -> None:
    async def check() -> bool:
        return event_types(await admin.order(order_id)).count("email_sent") >= emails

    await eventually(check)


async def test_order_shipment(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5), quantity=2)
    [item] = purchase.order["items"]
    assert (await admin.ship(purchase.order["id"], [(item["id"], 1)])).status_code == 201
    assert (await admin.ship(purchase.order["id"])).status_code == 201
    await _settled(admin, purchase.order["id"], 3)
    await _save(temporal_env, "order_shipment", purchase.payment_intent_id)


async def test_order_cancel(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    assert (await admin.cancel(purchase.order["id"], "customer asked")).status_code == 200
    await _settled(admin, purchase.order["id"], 2)
    await _save(temporal_env, "order_cancel", purchase.payment_intent_id)


async def test_order_partial_refund(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    refunded = await admin.refund(purchase.order["id"], {"amount": 1000, "reason": "requested_by_customer"})
    assert refunded.status_code == 201, refunded.text
    await _settled(admin, purchase.order["id"], 2)
    await _save(temporal_env, "order_partial_refund", purchase.payment_intent_id)


async def test_order_return(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    [item] = purchase.order["items"]
    assert (await admin.ship(purchase.order["id"])).status_code == 201
    ret = (await admin.request_return(purchase.order["id"], [(item["id"], 1)])).json()["return"]
    assert (await admin.receive(ret["id"], [(item["id"], 1, True)])).status_code == 200
    await _settled(admin, purchase.order["id"], 3)
    await _save(temporal_env, "order_return", purchase.payment_intent_id)


async def test_order_dispute(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=5))
    dispute = await open_dispute(fake_stripe_url(), purchase.payment_intent_id)
    await _settled(admin, purchase.order["id"], 2)  # the confirmation and the shop's notice
    await resolve_dispute(fake_stripe_url(), dispute["id"], "won")

    async def closed() -> bool:
        return "dispute_closed" in event_types(await admin.order(purchase.order["id"]))

    await eventually(closed)
    await _save(temporal_env, "order_dispute", purchase.payment_intent_id)
