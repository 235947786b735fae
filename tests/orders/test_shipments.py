"""The warehouse ships an order, whole or in parts; the customer is told once per parcel."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.ids import order_workflow_id
from tests.checkout.conftest import MakeVariant, Shopper, buy, outbox_of
from tests.conftest import eventually
from tests.orders.conftest import Admin, buy_lines, event_types, item_ids
from workflows.order import OrderWorkflow


@pytest.mark.e2e
async def test_shipping_an_order_records_it_and_emails_the_customer_once(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant, temporal_env: WorkflowEnvironment
) -> None:
    purchase = await buy(shopper, await make_variant(stock=2))
    order_id = purchase.order["id"]
    url = f"/admin/orders/{order_id}/shipments"
    shipment = {"carrier": "DHL", "tracking_number": "JD0146000001"}
    assert (await shopper.http.post(url, json=shipment)).status_code == 401
    invalid = await admin.http.post(url, json={"carrier": "", "tracking_number": "x"})
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "invalid_request")

    shipped = await admin.http.post(url, json=shipment, headers={"Idempotency-Key": "ship-1"})

    assert shipped.status_code == 201, shipped.text
    body = shipped.json()
    [item] = purchase.order["items"]
    assert body["fulfillment"]["items"] == [{"item_id": item["id"], "quantity": 1}]
    assert body["fulfillment"]["actor"] == "bootstrap"
    assert (body["order"]["fulfillment_status"], body["order"]["status"]) == ("shipped", "completed")
    assert "shipped" in event_types(body["order"])
    handle = temporal_env.client.get_workflow_handle_for(
        OrderWorkflow.run, order_workflow_id(purchase.payment_intent_id)
    )
    state = await handle.query(OrderWorkflow.state)
    assert state.snapshot is not None and state.snapshot.items[0].shipped == 1

    again = await admin.http.post(url, json=shipment, headers={"Idempotency-Key": "ship-1"})
    assert again.status_code == 200, again.text
    assert again.json()["fulfillment"]["id"] == body["fulfillment"]["id"]
    more = await admin.http.post(url, json=shipment)
    assert (more.status_code, more.json()["error"]["code"]) == (409, "already_shipped")

    async def shipment_emails() -> list[str]:
        emails = await outbox_of(order_id, "email")
        return [m.payload["text"] for m in emails if m.subject.endswith("has shipped")]

    [text] = await eventually(shipment_emails)
    assert "JD0146000001" in text
    emails = await outbox_of(order_id, "email")
    assert sorted(message.subject for message in emails) == [
        f"Your Grace's Towel order {order_id}",
        f"Your Grace's Towel order {order_id} has shipped",
    ]
    order = await eventually(lambda: _with_email_events(admin, order_id, 2))
    assert [e["data"]["kind"] for e in order["events"] if e["type"] == "email_sent"] == [
        "confirmation",
        "shipment",
    ]


async def _with_email_events(admin: Admin, order_id: str, count: int) -> dict | None:
    order = await admin.order(order_id)
    return order if event_types(order).count("email_sent") >= count else None


@pytest.mark.e2e
async def test_partial_shipments_ship_what_remains_and_never_more(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    towel, robe = await make_variant(stock=5), await make_variant(stock=5)
    purchase = await buy_lines(shopper, [(towel, 3), (robe, 1)])
    order_id = purchase.order["id"]
    items = item_ids(purchase.order)

    first = await admin.ship(order_id, [(items[towel], 2)])
    assert first.status_code == 201, first.text
    assert first.json()["order"]["fulfillment_status"] == "partially_shipped"
    assert first.json()["order"]["status"] == "pending"

    too_many = await admin.ship(order_id, [(items[towel], 2)])
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (409, "shipment_exceeds_unshipped")
    unknown = await admin.ship(order_id, [("ordli_not_in_this_order", 1)])
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "order_item_not_found")

    rest = await admin.ship(order_id)
    assert rest.status_code == 201, rest.text
    assert sorted((i["item_id"], i["quantity"]) for i in rest.json()["fulfillment"]["items"]) == sorted(
        [(items[towel], 1), (items[robe], 1)]
    )
    order = rest.json()["order"]
    assert (order["fulfillment_status"], order["status"]) == ("shipped", "completed")
    assert len(order["fulfillments"]) == 2
    assert event_types(order).count("shipped") == 2
