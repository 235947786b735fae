"""Fulfillment workflow inputs and state: pure data for the workflow sandbox."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# The names the fulfillment workflow answers to (see domain.checkout): never rename one.
FULFILLMENT_WORKFLOW = "FulfillmentWorkflow"
SHIP_SIGNAL = "ship"


class FulfillmentStatus(StrEnum):
    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"


class FulfillmentInput(BaseModel):
    order_id: str
    payment_intent_id: str


class Shipment(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=200)


class RecordShipmentInput(BaseModel):
    order_id: str
    shipment: Shipment


class FulfillmentState(BaseModel):
    order_id: str
    status: FulfillmentStatus = FulfillmentStatus.AWAITING_SHIPMENT
    shipment: Shipment | None = None
