"""The operations on an order (ship, cancel, refund, returns), their requests and their checks.

Each `check_*` is a pure function of the snapshot and the request: it answers what the
operation would do, or raises `OrderRefused` with a machine-readable code. The OrderWorkflow's
Update validators call them (a refused request leaves nothing in the history), its handlers call
them again under the workflow's lock (the order may have moved since), and the services call them
a third time on the snapshot read under the order's row lock: that last one is where no race
gets past.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.orders.snapshot import OrderSnapshot
from domain.orders.statuses import OrderStatus, PaymentStatus
from domain.text import WHOLE_NUMBER, multi_line, single_line

Units = Annotated[int, Field(strict=True, ge=1, le=10_000), WHOLE_NUMBER]


class OrderRefused(Exception):
    """The operation cannot be done on the order as it is; `code` says why (e.g. `already_shipped`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RefundReason(StrEnum):
    """Why money goes back. The first three are Stripe's own `reason` values and are sent to it."""

    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    ORDER_CANCELED = "order_canceled"  # a cancellation's refund
    RETURN_RECEIVED = "return_received"  # a received return's refund
    GOODWILL = "goodwill"  # e.g. a late parcel, a damaged item kept
    OTHER = "other"  # also every refund made outside us whose reason Stripe does not give

    @property
    def stripe_reason(self) -> str | None:
        return self.value if self in _STRIPE_REASONS else None


_STRIPE_REASONS = frozenset(
    {RefundReason.REQUESTED_BY_CUSTOMER, RefundReason.DUPLICATE, RefundReason.FRAUDULENT}
)


class RefundSource(StrEnum):
    ADMIN = "admin"  # POST /admin/orders/{id}/refunds
    CANCEL = "cancel"  # a canceled order's captured money
    RETURN = "return"  # a received return
    STRIPE = "stripe"  # made outside us (the Stripe dashboard), learned from Stripe


class ItemQuantity(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    item_id: Annotated[str, single_line(200)]
    quantity: Units


class ReceivedItem(ItemQuantity):
    restock: bool


class ShipRequest(BaseModel):
    order_id: str
    request_id: str
    actor: str
    carrier: Annotated[str, single_line(100)]
    tracking_number: Annotated[str, single_line(200)]
    items: list[ItemQuantity] | None = None  # None: everything not shipped yet


class CancelRequest(BaseModel):
    order_id: str
    request_id: str
    actor: str
    reason: Annotated[str, multi_line(500)] | None = None


class RefundRequest(BaseModel):
    order_id: str
    request_id: str  # the Idempotency-Key (or the operation's own ID for a cancel or a return)
    fingerprint: str  # hash of the canonical request body: tells a replay from a reused key
    actor: str
    amount: int | None = None
    items: list[ItemQuantity] | None = None
    include_shipping: bool = False
    reason: RefundReason
    note: Annotated[str, multi_line(1000)] | None = None
    source: RefundSource = RefundSource.ADMIN
    return_id: str | None = None


class ReturnRequest(BaseModel):
    order_id: str
    request_id: str
    actor: str
    items: list[ItemQuantity]
    reason: Annotated[str, multi_line(500)] | None = None


class ReceiveReturnRequest(BaseModel):
    order_id: str
    request_id: str
    actor: str
    return_id: str
    items: list[ReceivedItem]
    refund: bool = True


class CancelReturnRequest(BaseModel):
    order_id: str
    request_id: str
    actor: str
    return_id: str


class OperationOutcome(BaseModel):
    """What an Update answers, and what the workflow remembers per request ID."""

    request_id: str
    fingerprint: str | None = None
    fulfillment_id: str | None = None
    refund_id: str | None = None
    return_id: str | None = None


class RefundPlan(BaseModel):
    """What a refund request comes to: the amount and what it refunds by item."""

    amount: int
    items: dict[str, int] = {}
    include_shipping: bool = False


# --- checks --------------------------------------------------------------------------------


def _quantities(snapshot: OrderSnapshot, lines: Iterable[ItemQuantity]) -> dict[str, int]:
    """The lines summed per order item; an item that is not the order's is refused."""
    wanted: dict[str, int] = {}
    for line in lines:
        if snapshot.item(line.item_id) is None:
            raise OrderRefused("order_item_not_found", f"Item {line.item_id!r} is not part of this order")
        wanted[line.item_id] = wanted.get(line.item_id, 0) + line.quantity
    return wanted


def _refuse_canceled(snapshot: OrderSnapshot) -> None:
    if snapshot.status == OrderStatus.CANCELED:
        raise OrderRefused("order_canceled", "The order is canceled")


def _refuse_disputed(snapshot: OrderSnapshot) -> None:
    if snapshot.open_dispute_ids:
        raise OrderRefused("order_disputed", "The payment is disputed; wait until the dispute is closed")


def check_ship(snapshot: OrderSnapshot, request: ShipRequest) -> dict[str, int]:
    """Units to ship per order item: the listed ones, or everything not shipped yet."""
    _refuse_canceled(snapshot)
    if snapshot.payment_status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
        raise OrderRefused("order_not_paid", "Only a captured order can be shipped")
    if all(item.unshipped == 0 for item in snapshot.items):
        raise OrderRefused("already_shipped", "Nothing of this order is left to ship")
    if request.items is None:
        return {item.id: item.unshipped for item in snapshot.items if item.unshipped > 0}
    wanted = _quantities(snapshot, request.items)
    for item_id, quantity in wanted.items():
        item = snapshot.item(item_id)
        assert item is not None
        if quantity > item.unshipped:
            raise OrderRefused(
                "shipment_exceeds_unshipped",
                f"Item {item_id!r} has {item.unshipped} unit(s) left to ship; {quantity} asked",
            )
    return wanted


def check_cancel(snapshot: OrderSnapshot, request: CancelRequest) -> bool:
    """True if there is something to cancel; False when the order is canceled already (same answer)."""
    if snapshot.status == OrderStatus.CANCELED:
        return False
    if any(item.shipped > 0 for item in snapshot.items):
        raise OrderRefused("order_fulfilled", "Part of this order has shipped: make a return instead")
    if snapshot.paid > 0:
        _refuse_disputed(snapshot)
    return True


def _tax_share(snapshot: OrderSnapshot, base: int) -> int:
    """The order's tax on `base` of its taxable amount (subtotal + shipping), rounded half up."""
    taxable = snapshot.subtotal + snapshot.shipping_total
    if taxable <= 0:
        return 0
    return (2 * snapshot.tax_total * base + taxable) // (2 * taxable)


def _refunded_base(snapshot: OrderSnapshot) -> int:
    """The taxable amount already refunded by item (and shipping, once)."""
    base = sum(item.unit_price * item.refunded for item in snapshot.items)
    return base + (snapshot.shipping_total if snapshot.shipping_refunded else 0)


def item_refund_plan(
    snapshot: OrderSnapshot, items: Mapping[str, int], *, include_shipping: bool
) -> RefundPlan:
    """The price of these units plus their share of the order's tax (and shipping with its tax).

    The tax of a refund is the share of everything refunded by item after it minus the share
    before it, so refunding every line and the shipping in parts gives back exactly `tax_total`.
    """
    part = snapshot.shipping_total if include_shipping else 0
    for item_id, quantity in items.items():
        item = snapshot.item(item_id)
        assert item is not None
        if quantity > item.quantity - item.refunded:
            raise OrderRefused(
                "item_already_refunded",
                f"Item {item_id!r} has {item.quantity - item.refunded} unit(s) not refunded yet;"
                f" {quantity} asked",
            )
        part += item.unit_price * quantity
    if include_shipping and snapshot.shipping_refunded:
        raise OrderRefused("shipping_already_refunded", "The shipping of this order was refunded already")
    before = _refunded_base(snapshot)
    tax = _tax_share(snapshot, before + part) - _tax_share(snapshot, before)
    return RefundPlan(amount=part + tax, items=dict(items), include_shipping=include_shipping)


def check_refund(snapshot: OrderSnapshot, request: RefundRequest) -> RefundPlan:
    """The refund this request makes; never above what is refundable."""
    if request.source != RefundSource.CANCEL:
        _refuse_canceled(snapshot)
    _refuse_disputed(snapshot)
    if snapshot.paid <= 0:
        raise OrderRefused(
            "order_not_paid", "Nothing was captured: cancel the order to void the authorization"
        )
    if (request.amount is None) == (request.items is None) and request.source != RefundSource.CANCEL:
        raise OrderRefused("invalid_refund", "Give either `amount` or `items`, not both or neither")
    if request.items is not None:
        plan = item_refund_plan(
            snapshot, _quantities(snapshot, request.items), include_shipping=request.include_shipping
        )
    elif request.include_shipping:
        raise OrderRefused("invalid_refund", "`include_shipping` goes with `items`")
    else:
        plan = RefundPlan(amount=snapshot.refundable if request.amount is None else request.amount)
    if plan.amount <= 0:
        raise OrderRefused("refund_exceeds_refundable", "There is nothing left to refund")
    if plan.amount > snapshot.refundable:
        raise OrderRefused(
            "refund_exceeds_refundable",
            f"{plan.amount} is more than the refundable {snapshot.refundable} {snapshot.currency_code}",
        )
    return plan


def check_return(snapshot: OrderSnapshot, request: ReturnRequest) -> dict[str, int]:
    _refuse_canceled(snapshot)
    if not request.items:
        raise OrderRefused("invalid_return", "A return needs at least one item")
    wanted = _quantities(snapshot, request.items)
    for item_id, quantity in wanted.items():
        item = snapshot.item(item_id)
        assert item is not None
        if quantity > item.returnable:
            raise OrderRefused(
                "return_exceeds_shipped",
                f"Item {item_id!r} has {item.returnable} shipped unit(s) not yet returned; {quantity} asked",
            )
    return wanted


def _open_return(snapshot: OrderSnapshot, return_id: str) -> dict[str, int]:
    opened = snapshot.open_return(return_id)
    if opened is None:
        raise OrderRefused("return_not_open", f"Return {return_id!r} is not open (received or canceled)")
    return opened.items


def check_receive_return(snapshot: OrderSnapshot, request: ReceiveReturnRequest) -> dict[str, int]:
    """Units received per item: each at most what the return asked for."""
    asked = _open_return(snapshot, request.return_id)
    received: dict[str, int] = {}
    for line in request.items:
        if line.item_id not in asked:
            raise OrderRefused("order_item_not_found", f"Item {line.item_id!r} is not part of this return")
        received[line.item_id] = received.get(line.item_id, 0) + line.quantity
        if received[line.item_id] > asked[line.item_id]:
            raise OrderRefused(
                "return_exceeds_requested",
                f"Return {request.return_id!r} asked for {asked[line.item_id]} of item {line.item_id!r}",
            )
    return received


def check_cancel_return(snapshot: OrderSnapshot, request: CancelReturnRequest) -> None:
    _open_return(snapshot, request.return_id)


def return_refund_items(snapshot: OrderSnapshot, received: Mapping[str, int]) -> dict[str, int]:
    """What a received return refunds by item: the units received, less any already refunded by item."""
    refundable: dict[str, int] = {}
    for item_id, quantity in received.items():
        item = snapshot.item(item_id)
        if item is not None and (units := min(quantity, item.quantity - item.refunded)) > 0:
            refundable[item_id] = units
    return refundable


# Stripe's refusals of a refund that an operation passes on as its own code; any other refusal
# of Stripe's is `refund_refused` (the message says why), so the API's codes stay a known set.
STRIPE_REFUND_REFUSALS = ("charge_disputed", "charge_already_refunded", "amount_too_large")
REFUND_REFUSED = "refund_refused"
