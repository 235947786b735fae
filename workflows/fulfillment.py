"""FulfillmentWorkflow: started by a completed checkout (ID `{pi}:fulfillment`), it waits for the
warehouse to ship the order, records the shipment and tells the customer.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.fulfillment import FulfillmentActivities
    from activities.notifications import NotificationActivities
    from domain.fulfillment import (
        FULFILLMENT_WORKFLOW,
        SHIP_SIGNAL,
        FulfillmentInput,
        FulfillmentState,
        FulfillmentStatus,
        RecordShipmentInput,
        Shipment,
    )
    from workflows.policies import EMAIL_RETRY, SIDE_EFFECT_TIMEOUT


@workflow.defn(name=FULFILLMENT_WORKFLOW)
class FulfillmentWorkflow:
    @workflow.init
    def __init__(self, fulfillment: FulfillmentInput) -> None:
        self._state = FulfillmentState(order_id=fulfillment.order_id)

    @workflow.signal(name=SHIP_SIGNAL)
    def ship(self, shipment: Shipment) -> None:
        """The warehouse handed the parcel over; a second shipment signal changes nothing."""
        if self._state.shipment is None:
            self._state.shipment = shipment

    @workflow.query
    def state(self) -> FulfillmentState:
        return self._state

    @workflow.run
    async def run(self, fulfillment: FulfillmentInput) -> FulfillmentState:
        await workflow.wait_condition(lambda: self._state.shipment is not None)
        assert self._state.shipment is not None
        shipped = RecordShipmentInput(order_id=fulfillment.order_id, shipment=self._state.shipment)
        await workflow.execute_activity_method(
            FulfillmentActivities.record_shipment, shipped, start_to_close_timeout=SIDE_EFFECT_TIMEOUT
        )
        self._state.status = FulfillmentStatus.SHIPPED
        await workflow.execute_activity_method(
            NotificationActivities.send_shipping_confirmation,
            shipped,
            start_to_close_timeout=SIDE_EFFECT_TIMEOUT,
            retry_policy=EMAIL_RETRY,
        )
        return self._state
