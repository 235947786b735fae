"""The order's life after checkout against the real stack: an operator with the admin API, what
Stripe (the fake) holds, and what the database's ledger and transactions say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.db import get_sessionmaker
from core.settings import get_settings
from core.stripe_gateway import get_stripe_client
from domain.ids import new_id
from models import InventoryAdjustment, InventoryItem, InventoryLevel, OrderEvent
from tests.checkout.conftest import (
    MakeVariant,
    Purchase,
    Shopper,
    admin_headers,
    make_variant,
    pay,
    regions,
    shopper,
)

__all__ = ["make_variant", "regions", "shopper"]  # fixtures shared with the checkout tests


@dataclass
class Admin:
    """Support and the warehouse, through the admin API."""

    http: httpx.AsyncClient

    async def order(self, order_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"/admin/orders/{order_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["order"])

    async def ship(
        self, order_id: str, items: list[tuple[str, int]] | None = None, *, key: str | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"carrier": "DHL", "tracking_number": new_id("JD")}
        if items is not None:
            body["items"] = [{"item_id": item_id, "quantity": quantity} for item_id, quantity in items]
        headers = {"Idempotency-Key": key} if key else {}
        return await self.http.post(f"/admin/orders/{order_id}/shipments", json=body, headers=headers)

    async def refund(self, order_id: str, body: dict[str, Any], *, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key or new_id("key")}
        return await self.http.post(f"/admin/orders/{order_id}/refunds", json=body, headers=headers)

    async def cancel(self, order_id: str, reason: str | None = None) -> httpx.Response:
        return await self.http.post(
            f"/admin/orders/{order_id}/cancel", json={"reason": reason} if reason else None
        )

    async def request_return(self, order_id: str, items: list[tuple[str, int]]) -> httpx.Response:
        return await self.http.post(
            f"/admin/orders/{order_id}/returns",
            json={"items": [{"item_id": item_id, "quantity": quantity} for item_id, quantity in items]},
        )

    async def receive(
        self, return_id: str, items: list[tuple[str, int, bool]], *, refund: bool = True
    ) -> httpx.Response:
        lines = [
            {"item_id": item_id, "quantity": quantity, "restock": restock}
            for item_id, quantity, restock in items
        ]
        return await self.http.post(
            f"/admin/returns/{return_id}/receive", json={"items": lines, "refund": refund}
        )


@pytest.fixture
async def admin(shopper: Shopper) -> AsyncIterator[Admin]:
    async with httpx.AsyncClient(
        base_url=str(shopper.http.base_url), headers=admin_headers(), timeout=60
    ) as http:
        yield Admin(http=http)


async def buy_lines(shopper: Shopper, lines: list[tuple[str, int]], *, currency: str = "eur") -> Purchase:
    """A paid order of several lines, through the store API."""
    cart, payment_intent_id = await shopper.open_checkout(currency, lines)
    await pay(payment_intent_id)
    completed = await shopper.complete(cart["id"])
    assert completed.status_code == 200, completed.text
    return Purchase(cart=cart, payment_intent_id=payment_intent_id, order=completed.json()["order"])


async def stripe_refunds(payment_intent_id: str) -> list[dict[str, Any]]:
    """Every refund the fake Stripe holds for the PaymentIntent, as its API lists them."""
    page = await get_stripe_client().v1.refunds.list_async(
        {"payment_intent": payment_intent_id, "limit": 100}
    )
    return [refund.to_dict() for refund in page.data]


async def stripe_refunded(payment_intent_id: str) -> int:
    """What Stripe gave back on the PaymentIntent (refunds that did not fail)."""
    return sum(
        r["amount"]
        for r in await stripe_refunds(payment_intent_id)
        if r["status"] not in ("failed", "canceled")
    )


def item_ids(order: dict[str, Any]) -> dict[str, str]:
    """The order's item IDs by variant."""
    return {item["variant_id"]: item["id"] for item in order["items"]}


async def stock_and_ledger(variant_id: str) -> tuple[int, int, list[str]]:
    """The level's stocked quantity, the sum of its ledger, and the ledger's reasons in order."""
    async with get_sessionmaker()() as session:
        level = (
            await session.scalars(
                select(InventoryLevel)
                .join(InventoryItem, InventoryItem.id == InventoryLevel.inventory_item_id)
                .where(InventoryItem.variant_id == variant_id)
            )
        ).one()
        total = await session.scalar(
            select(func.coalesce(func.sum(InventoryAdjustment.delta), 0)).where(
                InventoryAdjustment.inventory_level_id == level.id
            )
        )
        reasons = await session.scalars(
            select(InventoryAdjustment.reason)
            .where(InventoryAdjustment.inventory_level_id == level.id)
            .order_by(InventoryAdjustment.created_at, InventoryAdjustment.stocked_after)
        )
        return level.stocked_quantity, int(total or 0), list(reasons)


def event_types(order: dict[str, Any]) -> list[str]:
    return [event["type"] for event in order["events"]]


def fake_stripe_url() -> str:
    return get_settings().stripe_api_base or ""


async def timeline_of(order_id: str) -> list[OrderEvent]:
    async with get_sessionmaker()() as session:
        return list(
            await session.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.created_at)
            )
        )


__all__ += ["Admin", "MakeVariant"]
