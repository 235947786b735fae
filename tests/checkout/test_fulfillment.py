"""After the order: the warehouse ships it, the customer is told once."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.fulfillment import FulfillmentStatus
from domain.ids import fulfillment_workflow_id
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    admin_headers,
    buy,
    outbox_of,
    workflow_outcome,
)
from workflows.fulfillment import FulfillmentWorkflow


@pytest.mark.e2e
async def test_shipping_an_order_records_it_and_emails_the_customer_once(
    shopper: Shopper, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=2))
    await workflow_outcome(temporal_env, purchase.payment_intent_id)
    order_id = purchase.order["id"]
    fulfillment = temporal_env.client.get_workflow_handle_for(
        FulfillmentWorkflow.run, fulfillment_workflow_id(purchase.payment_intent_id)
    )
    assert (await fulfillment.query(FulfillmentWorkflow.state)).status == FulfillmentStatus.AWAITING_SHIPMENT

    shipment = {"carrier": "DHL", "tracking_number": "JD0146000001"}
    url = f"/admin/orders/{order_id}/shipments"
    assert (await shopper.http.post(url, json=shipment)).status_code == 401
    invalid = await shopper.http.post(
        url, json={"carrier": "", "tracking_number": "x"}, headers=admin_headers()
    )
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "invalid_request")

    accepted = await shopper.http.post(url, json=shipment, headers=admin_headers())
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["workflow_id"] == f"{purchase.payment_intent_id}:fulfillment"
    final = await fulfillment.result()
    assert final.status == FulfillmentStatus.SHIPPED

    order = await shopper.http.get(
        f"/store/orders/{order_id}", headers={"X-Order-Token": purchase.order["access_token"]}
    )
    assert order.json()["order"]["fulfillment_status"] == "shipped"
    emails = await outbox_of(order_id, "email")
    assert sorted(message.subject for message in emails) == [
        f"Your Grace's Towel order {order_id}",
        f"Your Grace's Towel order {order_id} has shipped",
    ]
    shipped_email = next(m for m in emails if m.subject.endswith("has shipped"))
    assert "JD0146000001" in shipped_email.payload["text"]

    again = await shopper.http.post(url, json=shipment, headers=admin_headers())
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_shipped")
