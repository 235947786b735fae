"""Email and analytics. Each message is keyed in the outbox before it leaves, so however often an
activity is retried, a customer gets one email and PostHog one event. Emails are rendered from
the templates in activities/emails/; each one queued is an `email_sent` entry of the order's
timeline.

Every message is tried once at once, and a message the provider did not take is left `pending`
for the delivery Schedule's workflow (`deliver_due_messages`), which tries it again with backoff
until it is sent or `failed`: a provider being down never fails or delays a workflow.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.emails import render
from core.analytics import AnalyticsSink, stable_event_uuid
from core.email import EmailMessage, EmailSender
from domain.fulfillment import RecordShipmentInput
from domain.orders.records import SYSTEM_ACTOR, OrderEventType
from domain.orders.statuses import REFUND_MONEY_SENT
from domain.orders.workflow import EmailKind, EmailRequest
from domain.outbox import DeliveryRun, OutboxChannel, OutboxStatus, email_key
from models import Dispute, Fulfillment, Order, OutboxMessage, Refund
from services import outbox
from services.fulfillments import LEGACY_REQUEST_ID
from services.orders import ORDER_AND_LINES, record_event
from services.outbox import RetryRule

logger = logging.getLogger(__name__)

# Batches of one delivery run at most: whatever is left waits for the Schedule's next run.
MAX_BATCHES_PER_RUN = 20


class NotificationActivities:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        email_sender: EmailSender | None,
        analytics: AnalyticsSink | None,
        *,
        shop_email: str,
        retry: RetryRule,
        batch_size: int,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._email_sender = email_sender
        self._analytics = analytics
        self._shop_email = shop_email
        self._retry = retry
        self._batch_size = batch_size

    # --- delivery: claim, send outside any transaction, record ---------------------------------

    async def _claim(self, *, limit: int, message_id: str | None = None) -> list[OutboxMessage]:
        async with self._sessionmaker() as session, session.begin():
            return list(await outbox.claim_due(session, self._retry, limit=limit, message_id=message_id))

    async def _send(self, message: OutboxMessage) -> OutboxStatus:
        """One attempt at the provider, its outcome recorded; returns the message's status now."""
        try:
            status, provider_id = await self._to_provider(message)
        except Exception as error:  # any provider failure: the message is retried later
            async with self._sessionmaker() as session, session.begin():
                status = await outbox.record_failure(
                    session, message.id, f"{type(error).__name__}: {error}", self._retry
                )
            logger.warning(
                "outbox message %s (%s) not delivered, attempt %d: %s",
                message.idempotency_key,
                message.channel,
                message.attempts,
                error,
                extra={"order_id": message.payload.get("order_id")},
            )
            return status
        async with self._sessionmaker() as session, session.begin():
            await outbox.record_delivered(session, message.id, status, provider_message_id=provider_id)
        return status

    async def _to_provider(self, message: OutboxMessage) -> tuple[OutboxStatus, str | None]:
        if message.channel == OutboxChannel.EMAIL:
            if self._email_sender is None:
                return OutboxStatus.OUTBOX, None
            email = EmailMessage(
                to=message.recipient,
                subject=message.subject,
                html=str(message.payload["html"]),
                text=str(message.payload["text"]),
            )
            # The outbox key is Resend's idempotency key: a retry after a lost answer sends nothing new.
            return OutboxStatus.SENT, await self._email_sender.send(
                email, idempotency_key=message.idempotency_key
            )
        if self._analytics is None:
            return OutboxStatus.OUTBOX, None
        await self._analytics.capture(
            event=message.subject,
            distinct_id=message.recipient,
            properties=message.payload,
            event_uuid=stable_event_uuid(message.idempotency_key),
        )
        return OutboxStatus.SENT, None

    async def _queue_and_send(
        self, *, channel: OutboxChannel, key: str, recipient: str, subject: str, payload: dict[str, Any]
    ) -> str:
        """Queue the message once and try it at once; one already queued is tried only if it is due
        (not sent, in flight or waiting its retry). Returns its status."""
        async with self._sessionmaker() as session, session.begin():
            message, claimed = await outbox.enqueue(
                session,
                channel=channel,
                key=key,
                recipient=recipient,
                subject=subject,
                payload=payload,
                first_attempt=self._retry,
            )
        if claimed:
            return await self._send(message)
        due = await self._claim(limit=1, message_id=message.id)
        return await self._send(due[0]) if due else message.status

    @activity.defn
    async def deliver_due_messages(self) -> DeliveryRun:
        """The delivery Schedule's step: every due pending message, one attempt each."""
        run = DeliveryRun()
        for _ in range(MAX_BATCHES_PER_RUN):
            batch = await self._claim(limit=self._batch_size)
            for message in batch:
                status = await self._send(message)
                if status == OutboxStatus.PENDING:
                    run.retrying += 1
                elif status == OutboxStatus.FAILED:
                    run.failed += 1
                else:
                    run.sent += 1
                activity.heartbeat(run.sent + run.retrying + run.failed)
            if len(batch) < self._batch_size:
                break
        return run

    # --- what is sent ----------------------------------------------------------------------------

    async def _order(self, order_id: str) -> Order:
        async with self._sessionmaker() as session:  # its lines are all of it a message shows
            order = await session.get(Order, order_id, options=ORDER_AND_LINES)
        if order is None:
            raise LookupError(f"order {order_id} does not exist")
        return order

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
        """Queue the email once and try it at once; returns its outbox status."""
        order = await self._order(request.order_id)
        recipient, context = await self._context(order, request)
        rendered = render(request.kind, order_id=order.id, **context)
        key = email_key(order.id, request.kind, request.subject_id)
        status = await self._queue_and_send(
            channel=OutboxChannel.EMAIL,
            key=key,
            recipient=recipient,
            subject=rendered.subject,
            payload={"html": rendered.html, "text": rendered.text, "order_id": order.id},
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
        # No personal data: the order ID is the distinct ID, amounts are minor units.
        properties = {
            "order_id": order.id,
            "total": order.total,
            "currency_code": order.currency_code,
            "items": sum(item.quantity for item in order.items),
        }
        return await self._queue_and_send(
            channel=OutboxChannel.ANALYTICS,
            key=f"{order.id}:order_placed",
            recipient=order.id,
            subject="order_placed",
            payload=properties,
        )
