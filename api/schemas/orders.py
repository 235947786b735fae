"""Order responses: what a buyer (with the order token) and the storefront see."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from api.schemas.carts import LineItemOut
from domain.orders.records import TransactionReference
from models import Order

_REFUND_MOVEMENTS = (TransactionReference.REFUND, TransactionReference.REFUND_REVERSAL)


class OrderItemOut(LineItemOut):
    """An order's line: the cart's line as it was bought (price frozen at checkout)."""


class PaymentCollectionOut(BaseModel):
    id: str
    amount: int
    currency_code: str
    status: str
    payment_intent_id: str


class OrderTransactionOut(BaseModel):
    id: str
    amount: int
    currency_code: str
    reference: str
    reference_id: str
    created_at: datetime


class OrderOut(BaseModel):
    id: str
    cart_id: str
    status: str
    payment_status: str
    fulfillment_status: str
    currency_code: str
    email: str | None
    subtotal: int
    shipping_total: int
    tax_total: int
    total: int
    # Sums of the order's transactions: what was captured, and what was given back (refunds less
    # the reversals of refunds that failed).
    paid_total: int
    refunded_total: int
    items: list[OrderItemOut]
    payment_collection: PaymentCollectionOut
    transactions: list[OrderTransactionOut]
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            id=order.id,
            cart_id=order.cart_id,
            status=order.status,
            payment_status=order.payment_status,
            fulfillment_status=order.fulfillment_status,
            currency_code=order.currency_code,
            email=order.email,
            subtotal=order.subtotal,
            shipping_total=order.shipping_total,
            tax_total=order.tax_total,
            total=order.total,
            paid_total=sum(
                t.amount for t in order.transactions if t.reference == TransactionReference.CAPTURE
            ),
            refunded_total=-sum(t.amount for t in order.transactions if t.reference in _REFUND_MOVEMENTS),
            items=[OrderItemOut.model_validate(item, from_attributes=True) for item in order.items],
            payment_collection=PaymentCollectionOut(
                id=order.payment_collection.id,
                amount=order.payment_collection.amount,
                currency_code=order.payment_collection.currency_code,
                status=order.payment_collection.status,
                payment_intent_id=order.payment_intent_id,
            ),
            transactions=[
                OrderTransactionOut.model_validate(t, from_attributes=True) for t in order.transactions
            ],
            created_at=order.created_at,
        )


class PlacedOrderOut(OrderOut):
    """Returned by `complete` only: the token that lets the buyer read the order later."""

    access_token: str

    @classmethod
    def of(cls, order: Order) -> PlacedOrderOut:
        return cls(**OrderOut.of(order).model_dump(), access_token=order.access_token)


class OrderResponse(BaseModel):
    order: OrderOut


class CompleteResponse(BaseModel):
    type: str = "order"
    order: PlacedOrderOut


class PaymentSessionOut(BaseModel):
    payment_intent_id: str
    client_secret: str
    amount: int
    currency_code: str


class PaymentSessionResponse(BaseModel):
    payment_session: PaymentSessionOut
