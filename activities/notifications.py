"""Confirmation email and analytics. Each message is keyed in the outbox before it leaves,
so however often an activity is retried, a customer gets one email and PostHog one event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.analytics import AnalyticsSink, stable_event_uuid
from core.email import EmailMessage, EmailSender
from domain.fulfillment import RecordShipmentInput, Shipment
from domain.ids import new_id
from domain.money import format_money
from models import Order, OutboxMessage


def _email(order: Order, *, subject: str, intro: str, closing: list[str]) -> EmailMessage:
    lines = [f"{item.quantity} x {item.title} ({item.sku})" for item in order.items]
    text = "\n".join([intro, "", *lines, "", *closing, f"Order: {order.id}"])
    html = "".join(
        [
            f"<p>{escape(intro)}</p><ul>",
            *(f"<li>{escape(line)}</li>" for line in lines),
            "</ul>",
            *(f"<p>{escape(line)}</p>" for line in [*closing, f"Order: {order.id}"]),
        ]
    )
    return EmailMessage(to=order.email or "", subject=subject, html=html, text=text)


def confirmation_email(order: Order) -> EmailMessage:
    total = format_money(order.total, order.currency_code)
    return _email(
        order,
        subject=f"Your Grace's Towel order {order.id}",
        intro="Thank you for your order.",
        closing=[f"Total: {total}"],
    )


def shipping_email(order: Order, shipment: Shipment) -> EmailMessage:
    return _email(
        order,
        subject=f"Your Grace's Towel order {order.id} has shipped",
        intro="Your order is on its way.",
        closing=[f"Carrier: {shipment.carrier}", f"Tracking number: {shipment.tracking_number}"],
    )


class NotificationActivities:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        email_sender: EmailSender | None,
        analytics: AnalyticsSink | None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._email_sender = email_sender
        self._analytics = analytics

    async def _claim(
        self, *, channel: str, key: str, recipient: str, subject: str, payload: dict[str, Any]
    ) -> OutboxMessage:
        """Write the message once; later attempts get the same row back."""
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                insert(OutboxMessage)
                .values(
                    id=new_id("msg"),
                    channel=channel,
                    idempotency_key=key,
                    recipient=recipient,
                    subject=subject,
                    payload=payload,
                    status="pending",
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            return (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
            ).one()

    async def _mark(self, message_id: str, *, status: str, provider_message_id: str | None = None) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(status=status, provider_message_id=provider_message_id, sent_at=datetime.now(UTC))
            )

    async def _order(self, order_id: str) -> Order:
        async with self._sessionmaker() as session:
            order = await session.get(Order, order_id)
        if order is None:
            raise LookupError(f"order {order_id} does not exist")
        return order

    async def _send_email(self, order: Order, email: EmailMessage, key: str) -> str:
        """Returns the outbox status: `sent` through Resend, or `outbox` where no provider is configured."""
        message = await self._claim(
            channel="email",
            key=key,
            recipient=email.to,
            subject=email.subject,
            payload={"html": email.html, "text": email.text, "order_id": order.id},
        )
        if message.status != "pending":
            return message.status
        if self._email_sender is None:
            await self._mark(message.id, status="outbox")
            return "outbox"
        provider_id = await self._email_sender.send(email, idempotency_key=key)
        await self._mark(message.id, status="sent", provider_message_id=provider_id)
        return "sent"

    @activity.defn
    async def send_order_confirmation(self, order_id: str) -> str:
        order = await self._order(order_id)
        return await self._send_email(order, confirmation_email(order), f"{order.id}:confirmation-email")

    @activity.defn
    async def send_shipping_confirmation(self, request: RecordShipmentInput) -> str:
        order = await self._order(request.order_id)
        return await self._send_email(
            order, shipping_email(order, request.shipment), f"{order.id}:shipping-email"
        )

    @activity.defn
    async def track_order_placed(self, order_id: str) -> str:
        order = await self._order(order_id)
        key = f"{order.id}:order_placed"
        # No personal data: the order ID is the distinct ID, amounts are minor units.
        properties = {
            "order_id": order.id,
            "total": order.total,
            "currency_code": order.currency_code,
            "items": sum(item.quantity for item in order.items),
        }
        message = await self._claim(
            channel="analytics", key=key, recipient=order.id, subject="order_placed", payload=properties
        )
        if message.status != "pending":
            return message.status
        if self._analytics is None:
            await self._mark(message.id, status="outbox")
            return "outbox"
        await self._analytics.capture(
            event="order_placed",
            distinct_id=order.id,
            properties=properties,
            event_uuid=stable_event_uuid(key),
        )
        await self._mark(message.id, status="sent")
        return "sent"
