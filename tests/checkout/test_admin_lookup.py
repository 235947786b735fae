"""Operators find any checkout by cart, order or PaymentIntent: in the admin API and in Temporal."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.checkout import CheckoutStatus
from domain.ids import order_workflow_id
from tests.checkout.conftest import MakeVariant, Shopper, admin_headers, buy, workflow_outcome
from tests.conftest import eventually


@pytest.mark.e2e
async def test_admin_finds_the_checkout_by_cart_order_and_payment_intent(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    payment_intent_id, order_id, cart_id = (
        purchase.payment_intent_id,
        purchase.order["id"],
        purchase.cart["id"],
    )
    assert (await workflow_outcome(temporal_env, payment_intent_id)).status == CheckoutStatus.COMPLETED

    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        denied = await shopper.http.get("/admin/checkouts", params={"cart_id": cart_id}, headers=headers)
        assert denied.status_code == 401, denied.text
        assert denied.json()["error"]["code"] == "unauthorized"
    assert (await shopper.http.get(f"/admin/checkouts/{payment_intent_id}")).status_code == 401

    for params in ({"cart_id": cart_id}, {"order_id": order_id}, {"payment_intent_id": payment_intent_id}):
        found = await shopper.http.get("/admin/checkouts", params=params, headers=admin_headers())
        assert found.status_code == 200, found.text
        [checkout] = found.json()["checkouts"]
        assert checkout["payment_intent_id"] == payment_intent_id
        assert checkout["cart_id"] == cart_id
        assert checkout["order_id"] == order_id
        assert checkout["status"] == "completed"
        assert checkout["amount"] == purchase.order["total"]
        assert checkout["temporal_ui_url"].endswith(f"/workflows/{payment_intent_id}")

    detail = await shopper.http.get(f"/admin/checkouts/{payment_intent_id}", headers=admin_headers())
    assert detail.status_code == 200, detail.text
    workflow_state = detail.json()["workflow_state"]
    assert workflow_state["status"] == "completed"
    assert workflow_state["order_id"] == order_id
    assert workflow_state["cart_id"] == cart_id

    admin_order = await shopper.http.get(f"/admin/orders/{order_id}", headers=admin_headers())
    assert admin_order.status_code == 200, admin_order.text
    assert admin_order.json()["order"]["payment_status"] == "captured"

    # Temporal's own search (what the UI's search box runs); visibility is eventually consistent.
    # The order ID finds the checkout and the order's own workflow.
    for query, expected in (
        (f"OrderId = '{order_id}'", {payment_intent_id, order_workflow_id(payment_intent_id)}),
        (f"CartId = '{cart_id}'", {payment_intent_id}),
        (f"CartId = '{cart_id}' AND CheckoutStatus = 'completed'", {payment_intent_id}),
    ):

        async def matching_workflow_ids(query: str = query, expected: set[str] = expected) -> set[str] | None:
            ids = {execution.id async for execution in temporal_env.client.list_workflows(query)}
            return ids if ids == expected else None

        assert await eventually(matching_workflow_ids) == expected, query
