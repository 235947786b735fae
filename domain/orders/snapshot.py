"""OrderSnapshot: what the OrderWorkflow keeps of its order in memory.

Loaded from the database by the services (services.orders.load_snapshot) and returned by every
activity that changes the order, so the workflow's copy never drifts from the database. The
checks in domain.orders.operations read only this.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.orders.statuses import FulfillmentStatus, OrderStatus, PaymentStatus


class ItemSnapshot(BaseModel):
    id: str
    quantity: int
    unit_price: int
    shipped: int = 0
    # Requested or received back, not canceled: never above `shipped` (a CHECK says so too).
    returned: int = 0
    # Received back (part of `returned`).
    received: int = 0
    # Refunded by item: never above `quantity`.
    refunded: int = 0

    @property
    def unshipped(self) -> int:
        """Units still to ship: not shipped, and not refunded by item without coming back (a unit
        refunded before it shipped, e.g. out of stock, is not sent any more)."""
        kept_refunds = max(self.refunded - self.received, 0)
        return max(self.quantity - self.shipped - kept_refunds, 0)

    @property
    def returnable(self) -> int:
        return self.shipped - self.returned


class ReturnSnapshot(BaseModel):
    """A return that is still open (requested, not yet received or canceled)."""

    id: str
    request_id: str
    items: dict[str, int]  # order item ID -> units asked back


class OrderSnapshot(BaseModel):
    order_id: str
    payment_intent_id: str
    currency_code: str
    subtotal: int
    shipping_total: int
    tax_total: int
    total: int
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    # Money, in minor units: sums of the order's transactions, and refunds not yet answered.
    paid: int = 0
    refunded: int = 0
    reserved: int = 0
    shipping_refunded: bool = False
    items: list[ItemSnapshot]
    open_returns: list[ReturnSnapshot] = []
    open_refund_ids: list[str] = []
    open_dispute_ids: list[str] = []
    # What the close deadline is computed from.
    placed_at: datetime
    captured_at: datetime | None = None
    last_shipped_at: datetime | None = None

    @property
    def refundable(self) -> int:
        return max(self.paid - self.refunded - self.reserved, 0)

    @property
    def has_open_work(self) -> bool:
        """Something the workflow must see through before it may close."""
        return bool(self.open_returns or self.open_refund_ids or self.open_dispute_ids)

    def item(self, item_id: str) -> ItemSnapshot | None:
        return next((item for item in self.items if item.id == item_id), None)

    def open_return(self, return_id: str) -> ReturnSnapshot | None:
        return next((ret for ret in self.open_returns if ret.id == return_id), None)
