"""Admin order shapes: the order with everything that happened to it, and the operations' bodies."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import RequestModel
from api.schemas.orders import OrderOut
from domain.catalog import MAX_AMOUNT
from domain.orders.operations import ItemQuantity, ReceivedItem, RefundReason
from domain.text import WHOLE_NUMBER, invalid_combination, multi_line, single_line
from models import Dispute, Fulfillment, Order, OrderEvent, Refund, Return
from services.orders import OrderRecords

# --- requests --------------------------------------------------------------------------------

Items = Annotated[list[ItemQuantity], Field(min_length=1, max_length=200)]


class ShipmentIn(RequestModel):
    carrier: Annotated[str, single_line(100)]
    tracking_number: Annotated[str, single_line(200)]
    # Omitted: every unit not shipped yet.
    items: Items | None = None


class CancelIn(RequestModel):
    reason: Annotated[str, multi_line(500)] | None = None


class RefundIn(RequestModel):
    """By `amount` (minor units) or by `items` (their price with their share of tax), not both
    (else 400 `invalid_combination`); `include_shipping` only with `items`."""

    amount: Annotated[int, Field(strict=True, gt=0, le=MAX_AMOUNT), WHOLE_NUMBER] | None = None
    items: Items | None = None
    include_shipping: bool = False
    reason: Annotated[RefundReason, Field(strict=False)]  # a JSON string naming one of them
    note: Annotated[str, multi_line(1000)] | None = None

    @model_validator(mode="after")
    def _amount_or_items(self) -> Self:
        if (self.amount is None) == (self.items is None):
            raise invalid_combination("give either `amount` or `items`")
        if self.include_shipping and self.items is None:
            raise invalid_combination("`include_shipping` goes with `items`")
        return self

    def fingerprint(self) -> str:
        """The canonical body's hash: the same key with another body is a reused key."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class ReturnIn(RequestModel):
    items: Items
    reason: Annotated[str, multi_line(500)] | None = None


class ReceiveReturnIn(RequestModel):
    items: Annotated[list[ReceivedItem], Field(min_length=1, max_length=200)]
    # Refund the received units (their price with their tax share); false: receive only.
    refund: bool = True


# --- responses -------------------------------------------------------------------------------


class ItemQuantityOut(BaseModel):
    item_id: str
    quantity: int


class FulfillmentOut(BaseModel):
    id: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    actor: str
    items: list[ItemQuantityOut]

    @classmethod
    def of(cls, fulfillment: Fulfillment) -> FulfillmentOut:
        return cls(
            id=fulfillment.id,
            carrier=fulfillment.carrier,
            tracking_number=fulfillment.tracking_number,
            shipped_at=fulfillment.shipped_at,
            actor=fulfillment.actor,
            items=[
                ItemQuantityOut(item_id=line.order_item_id, quantity=line.quantity)
                for line in fulfillment.items
            ],
        )


class RefundOut(BaseModel):
    id: str
    amount: int
    currency_code: str
    status: str
    reason: str
    stripe_refund_id: str | None
    note: str | None
    items: list[ItemQuantityOut] | None
    include_shipping: bool
    source: str
    actor: str
    return_id: str | None
    failure_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        items = None
        if refund.items is not None:
            items = [
                ItemQuantityOut(item_id=item, quantity=int(units)) for item, units in refund.items.items()
            ]
        return cls.model_validate({**_columns(refund), "items": items})


class ReturnItemOut(BaseModel):
    item_id: str
    quantity: int
    received_quantity: int
    restocked_quantity: int


class ReturnOut(BaseModel):
    id: str
    order_id: str
    status: str
    reason: str | None
    actor: str
    items: list[ReturnItemOut]
    refund_id: str | None
    created_at: datetime
    received_at: datetime | None
    canceled_at: datetime | None

    @classmethod
    def of(cls, ret: Return) -> ReturnOut:
        items = [
            ReturnItemOut(
                item_id=line.order_item_id,
                quantity=line.quantity,
                received_quantity=line.received_quantity,
                restocked_quantity=line.restocked_quantity,
            )
            for line in ret.items
        ]
        return cls.model_validate({**_columns(ret), "items": items})


class DisputeOut(BaseModel):
    id: str
    amount: int
    currency_code: str
    reason: str
    status: str
    opened_at: datetime
    closed_at: datetime | None


class EventOut(BaseModel):
    type: str
    at: datetime
    actor: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: OrderEvent) -> EventOut:
        return cls(type=event.type, at=event.created_at, actor=event.actor, data=event.data)


class AdminOrderOut(OrderOut):
    refundable_amount: int
    fulfillments: list[FulfillmentOut]
    returns: list[ReturnOut]
    refunds: list[RefundOut]
    disputes: list[DisputeOut]
    events: list[EventOut]

    @classmethod
    def with_records(cls, order: Order, records: OrderRecords) -> AdminOrderOut:
        return cls(
            **OrderOut.of(order).model_dump(),
            refundable_amount=records.money.refundable,
            fulfillments=[FulfillmentOut.of(f) for f in records.fulfillments],
            returns=[ReturnOut.of(r) for r in records.returns],
            refunds=[RefundOut.of(r) for r in records.refunds],
            disputes=[DisputeOut.model_validate(d, from_attributes=True) for d in records.disputes],
            events=[EventOut.of(e) for e in records.events],
        )


def _columns(row: Dispute | Refund | Return) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


class AdminOrderResponse(BaseModel):
    order: AdminOrderOut


class OrderListResponse(BaseModel):
    orders: list[OrderOut]
    count: int
    limit: int
    offset: int


class ShipmentResponse(BaseModel):
    fulfillment: FulfillmentOut
    order: AdminOrderOut


class RefundResponse(BaseModel):
    refund: RefundOut
    order: AdminOrderOut


class ReturnResponse(BaseModel):
    # The contract's `{"return": ...}`: `return` is a Python keyword, hence the alias.
    return_: ReturnOut = Field(serialization_alias="return")
