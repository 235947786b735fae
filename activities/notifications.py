"""Email and analytics. Each message is keyed in the outbox before it leaves, so however often an
activity is retried, a customer gets one email and PostHog one event. Emails are rendered from
the templates in activities/emails/; each one sent (or put in the outbox) is an `email_sent`
entry of the order's timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.emails import email_to, render
from core.analytics import AnalyticsSink, stable_event_uuid
from core.email import EmailMessage, EmailSender
from domain.fulfillment import RecordShipmentInput
from domain.ids import new_id
from domain.orders.records import SYSTEM_ACTOR, OrderEventType
from domain.orders.statuses import REFUND_MONEY_SENT
from domain.orders.workflow import EmailKind, EmailRequest
from models import Dispute, Fulfillment, Order, OutboxMessage, Refund
from services.fulfillments import LEGACY_REQUEST_ID
from services.orders import record_event

# The outbox key of each email: one message per order (and fulfillment, refund or dispute).
_KEYS = {
    EmailKind.CONFIRMATION: "{order_id}:confirmation-email",
    EmailKind.SHIPMENT: "{order_id}:shipment-email:{subject_id}",
    EmailKind.REFUND: "{order_id}:refund-email:{subject_id}",
    EmailKind.CANCELLATION: "{order_id}:cancellation-email",
    EmailKind.DISPUTE: "{order_id}:dispute-email:{subject_id}",
}


class NotificationActivities:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        email_sender: EmailSender | None,
        analytics: AnalyticsSink | None,
        *,
        shop_email: str,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._email_sender = email_sender
        self._analytics = analytics
        self._shop_email = shop_email

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

    async def _context(self, order: Order, request: EmailRequest) -> tuple[str, dict[str, Any]]:
        """Who gets this email and what its template shows."""
        lines = {item.id: item for item in order.items}

        def items(quantities: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            chosen = (
                quantities if quantities is not None else {item.id: item.quantity for item in order.items}
            )
            return [
                {"quantity": int(units), "title": lines[item_id].title, "sku": lines[item_id].sku}
                for item_id, units in chosen.items()
                if item_id in lines
            ]

        context: dict[str, Any] = {"currency_code": order.currency_code, "items": items()}
        customer = order.email or ""
        async with self._sessionmaker() as session:
            if request.kind == EmailKind.CONFIRMATION:
                context["total"] = order.total
            elif request.kind == EmailKind.SHIPMENT:
                fulfillment = await session.get(Fulfillment, request.subject_id)
                assert fulfillment is not None, f"fulfillment {request.subject_id} does not exist"
                context.update(
                    carrier=fulfillment.carrier,
                    tracking_number=fulfillment.tracking_number,
                    items=items({line.order_item_id: line.quantity for line in fulfillment.items}),
                )
            elif request.kind == EmailKind.REFUND:
                refund = await session.get(Refund, request.subject_id)
                assert refund is not None, f"refund {request.subject_id} does not exist"
                context.update(amount=refund.amount, items=items(refund.items) if refund.items else [])
            elif request.kind == EmailKind.CANCELLATION:
                refunded = await session.scalars(
                    select(Refund.amount).where(
                        Refund.order_id == order.id, Refund.status.in_(list(REFUND_MONEY_SENT))
                    )
                )
                context["refunded"] = sum(refunded)
            else:
                dispute = await session.get(Dispute, request.subject_id)
                assert dispute is not None, f"dispute {request.subject_id} does not exist"
                context.update(
                    amount=dispute.amount, reason=dispute.reason, status=dispute.status, dispute_id=dispute.id
                )
                return self._shop_email, context
        return customer, context

    async def _deliver(self, request: EmailRequest) -> str:
        order = await self._order(request.order_id)
        recipient, context = await self._context(order, request)
        key = _KEYS[request.kind].format(order_id=order.id, subject_id=request.subject_id)
        status = await self._send_email(
            order, email_to(recipient, render(request.kind, order_id=order.id, **context)), key
        )
        async with self._sessionmaker() as session, session.begin():
            await record_event(
                session,
                order.id,
                OrderEventType.EMAIL_SENT,
                actor=SYSTEM_ACTOR,
                dedupe_key=key,
                data={"kind": request.kind, "subject_id": request.subject_id, "status": status},
            )
        return status

    @activity.defn
    async def send_order_confirmation(self, order_id: str) -> str:
        return await self._deliver(EmailRequest(order_id=order_id, kind=EmailKind.CONFIRMATION))

    @activity.defn
    async def send_order_email(self, request: EmailRequest) -> str:
        """Any of the order's emails (shipment, refund, cancellation, the shop's dispute notice)."""
        return await self._deliver(request)

    @activity.defn
    async def send_shipping_confirmation(self, request: RecordShipmentInput) -> str:
        """The legacy FulfillmentWorkflow's shipment email (its one fulfillment)."""
        async with self._sessionmaker() as session:
            fulfillment_id = await session.scalar(
                select(Fulfillment.id).where(
                    Fulfillment.order_id == request.order_id, Fulfillment.request_id == LEGACY_REQUEST_ID
                )
            )
        if fulfillment_id is None:
            return "skipped"  # the order was shipped (or canceled) through its OrderWorkflow instead
        return await self._deliver(
            EmailRequest(order_id=request.order_id, kind=EmailKind.SHIPMENT, subject_id=fulfillment_id)
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
