"""After the load: did every checkout make exactly one order, captured exactly once?

A benchmark that silently loses or doubles orders is worse than none, so this reads the
outcome from three places that do not share code with the checkout: the database (orders,
capture transactions, the checkout read cache), localstripe's PaymentIntents, and localstripe's
own access log (how many capture requests reached "Stripe" for each PaymentIntent).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.shopper import CheckoutRun
from domain.money import to_stripe_amount
from models import Checkout, Order, OrderTransaction

_CAPTURE_REQUEST = re.compile(r'"POST /v1/payment_intents/(pi_\w+)/capture[^"]*" (\d{3})')


@dataclass
class Verification:
    carts: int = 0
    orders: int = 0
    captured_intents: int = 0
    capture_requests: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.carts == self.orders == self.captured_intents

    def summary(self) -> str:
        text = (
            f"{self.orders} orders for {self.carts} carts; {self.captured_intents} PaymentIntents captured, "
            f"{self.capture_requests} capture requests seen by localstripe"
        )
        extra = self.capture_requests - self.captured_intents
        if extra > 0 and not self.problems:
            text += f" ({extra} repeated capture requests were refused: a capture was retried, not doubled)"
        return text


def capture_requests(localstripe_log: Path) -> dict[str, Counter[str]]:
    """PaymentIntent ID → HTTP statuses of the capture requests localstripe answered."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        text = localstripe_log.read_text(errors="replace")
    except FileNotFoundError:
        return {}
    for match in _CAPTURE_REQUEST.finditer(text):
        seen[match.group(1)][match.group(2)] += 1
    return dict(seen)


async def _intent(client: stripe.StripeClient, gate: asyncio.Semaphore, intent_id: str) -> dict[str, Any]:
    async with gate:
        intent = await client.v1.payment_intents.retrieve_async(intent_id)
    data: dict[str, Any] = intent.to_dict()
    return data


async def verify(
    runs: Sequence[CheckoutRun],
    sessionmaker: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
    localstripe_log: Path,
) -> Verification:
    result = Verification(carts=len(runs))
    problems = result.problems
    for run in runs:
        if run.error is not None:
            problems.append(f"cart {run.cart_id}: checkout failed: {run.error}")

    cart_ids = [run.cart_id for run in runs]
    async with sessionmaker() as session:
        orders = list(await session.scalars(select(Order).where(Order.cart_id.in_(cart_ids))))
        order_ids = [order.id for order in orders]
        transactions = list(
            await session.scalars(
                select(OrderTransaction).where(
                    OrderTransaction.order_id.in_(order_ids), OrderTransaction.reference == "capture"
                )
            )
        )
        checkouts = list(await session.scalars(select(Checkout).where(Checkout.cart_id.in_(cart_ids))))
    result.orders = len(orders)

    by_cart: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_cart[order.cart_id].append(order)
    captures_by_order: dict[str, list[OrderTransaction]] = defaultdict(list)
    for transaction in transactions:
        captures_by_order[transaction.order_id].append(transaction)
    checkouts_by_cart: dict[str, list[Checkout]] = defaultdict(list)
    for checkout in checkouts:
        checkouts_by_cart[checkout.cart_id].append(checkout)

    intents_to_check: dict[str, Order] = {}
    for run in runs:
        found = by_cart.get(run.cart_id, [])
        if len(found) != 1:
            problems.append(f"cart {run.cart_id}: {len(found)} orders, expected exactly 1")
            continue
        order = found[0]
        if run.order_id is not None and order.id != run.order_id:
            problems.append(f"cart {run.cart_id}: API answered order {run.order_id}, database has {order.id}")
        if run.payment_intent_id is not None and order.payment_intent_id != run.payment_intent_id:
            problems.append(
                f"order {order.id}: PaymentIntent {order.payment_intent_id}, the payment session made "
                f"{run.payment_intent_id}"
            )
        if order.payment_status != "captured":
            problems.append(f"order {order.id}: payment_status {order.payment_status!r}, expected 'captured'")
        captures = captures_by_order.get(order.id, [])
        if len(captures) != 1 or captures[0].amount != order.total:
            amounts = [capture.amount for capture in captures]
            problems.append(f"order {order.id}: capture transactions {amounts}, expected [{order.total}]")
        cart_checkouts = checkouts_by_cart.get(run.cart_id, [])
        completed = [c for c in cart_checkouts if c.status == "completed" and c.order_id == order.id]
        if len(cart_checkouts) != 1 or len(completed) != 1:
            states = [(c.payment_intent_id, c.status, c.order_id) for c in cart_checkouts]
            problems.append(f"cart {run.cart_id}: checkouts {states}, expected one completed with {order.id}")
        intents_to_check[order.payment_intent_id] = order

    requests = capture_requests(localstripe_log)
    gate = asyncio.Semaphore(10)
    intents = await asyncio.gather(
        *(_intent(stripe_client, gate, intent_id) for intent_id in intents_to_check), return_exceptions=True
    )
    for (intent_id, order), intent in zip(intents_to_check.items(), intents, strict=True):
        statuses = requests.get(intent_id, Counter())
        result.capture_requests += sum(statuses.values())
        if statuses.get("200", 0) != 1:
            problems.append(
                f"PaymentIntent {intent_id}: capture requests answered {dict(statuses)}, expected one 200"
            )
        if isinstance(intent, BaseException):
            problems.append(f"PaymentIntent {intent_id}: could not be read back: {intent}")
            continue
        charge = intent.get("latest_charge")
        charge = charge if isinstance(charge, dict) else {}
        expected = to_stripe_amount(order.total, order.currency_code)
        if (
            intent.get("status") != "succeeded"
            or charge.get("captured") is not True
            or int(intent.get("amount", -1)) != expected
            or int(charge.get("amount_refunded") or 0) != 0
        ):
            problems.append(
                f"PaymentIntent {intent_id}: status {intent.get('status')}, amount {intent.get('amount')}, "
                f"charge captured={charge.get('captured')} refunded={charge.get('amount_refunded')}; "
                f"expected succeeded, {expected} captured once, nothing refunded"
            )
            continue
        result.captured_intents += 1
    return result
