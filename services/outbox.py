"""The outbox: every email and analytics event, written once under its key, then delivered.

Delivery is claim → send → record, each database step its own short transaction and the
provider's call outside any: `claim_due` takes due `pending` rows (`FOR UPDATE SKIP LOCKED`, so
two deliverers never take one row), counts the attempt and moves `next_attempt_at` on by the
retry delay, which is also the lease of an attempt whose worker died; `record_delivered` and
`record_failure` write the outcome, `failed` once the last attempt is spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ids import new_id
from domain.orders.records import OrderEventType
from domain.orders.workflow import EmailKind
from domain.outbox import OutboxChannel, OutboxStatus, email_key, resend_key, retry_delay
from models import OutboxMessage
from services.errors import ServiceError
from services.orders import get_order, record_event

# What of a provider's error message is kept (`last_error` is shown in /admin/outbox).
_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class RetryRule:
    max_attempts: int
    base_seconds: float
    cap_seconds: float


async def enqueue(
    session: AsyncSession,
    *,
    channel: OutboxChannel,
    key: str,
    recipient: str,
    subject: str,
    payload: dict[str, Any],
    first_attempt: RetryRule | None = None,
) -> tuple[OutboxMessage, bool]:
    """Write the message once, due now; a second call with its key gets the same row back.

    With `first_attempt`, a message written by this call is written claimed for its first attempt,
    as `claim_due` would leave it (the attempt counted, its lease taken), so the caller can send it
    at once without claiming it again; the flag says whether it was. One statement when new.
    """
    values: dict[str, Any] = {
        "id": new_id("msg"),
        "channel": channel,
        "idempotency_key": key,
        "recipient": recipient,
        "subject": subject,
        "payload": payload,
        "status": OutboxStatus.PENDING,
    }
    if first_attempt is not None:
        values.update(attempts=1, next_attempt_at=_lease_end(1, first_attempt))
    written = await session.scalar(
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage)
    )
    if written is not None:
        return written, first_attempt is not None
    existing = await session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    return existing.one(), False


def _lease_end(attempt: int, rule: RetryRule) -> datetime:
    """When attempt number `attempt` counts as lost (its worker died) and the next one is due."""
    return datetime.now(UTC) + retry_delay(
        attempt, base_seconds=rule.base_seconds, cap_seconds=rule.cap_seconds
    )


async def claim_due(
    session: AsyncSession, rule: RetryRule, *, limit: int, message_id: str | None = None
) -> Sequence[OutboxMessage]:
    """Take up to `limit` due pending messages (only `message_id`, if given) for one attempt each."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= func.now())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    claimed = (await session.scalars(query)).all()
    for message in claimed:
        message.attempts += 1
        message.next_attempt_at = _lease_end(message.attempts, rule)
    await session.flush()
    return claimed


async def record_delivered(
    session: AsyncSession, message_id: str, status: OutboxStatus, *, provider_message_id: str | None = None
) -> None:
    """The message left (`sent`), or was kept as the dev outbox (`outbox`)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=status, provider_message_id=provider_message_id, sent_at=func.now(), last_error=None)
    )


async def record_failure(session: AsyncSession, message_id: str, error: str, rule: RetryRule) -> OutboxStatus:
    """The attempt failed: the message waits for its next one, or is `failed` after the last."""
    status = await session.scalar(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(
            last_error=error[:_ERROR_LIMIT],
            status=case(
                (OutboxMessage.attempts >= rule.max_attempts, OutboxStatus.FAILED.value),
                else_=OutboxStatus.PENDING.value,
            ),
        )
        .returning(OutboxMessage.status)
    )
    if status is None:  # recorded by an earlier attempt of this step: say what it is now
        status = (
            await session.execute(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        ).scalar_one()
    return OutboxStatus(status)


class EmailNotDue(ServiceError):
    code = "email_not_due"


async def resend_email(session: AsyncSession, order_id: str, kind: EmailKind, *, actor: str) -> OutboxMessage:
    """The order's latest email of this kind again, as a new message (a new key each call), on the
    order's timeline with who asked. Refused when that email was never due (no shipment yet...)."""
    order = await get_order(session, order_id)
    original = await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == OutboxChannel.EMAIL,
            # The original's key: exactly the confirmation's or cancellation's, the latest shipment's...
            OutboxMessage.idempotency_key.startswith(email_key(order.id, kind, ""), autoescape=True),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
    if original is None:
        raise EmailNotDue(f"Order {order.id!r} has had no {kind} email to send again")
    key = resend_key(order.id, kind, new_id("resend"))
    message, _ = await enqueue(
        session,
        channel=OutboxChannel.EMAIL,
        key=key,
        recipient=original.recipient,
        subject=original.subject,
        payload={**original.payload, "resend_of": original.id},
    )
    await record_event(
        session,
        order.id,
        OrderEventType.EMAIL_RESENT,
        actor=actor,
        dedupe_key=key,
        data={"kind": kind, "message_id": message.id, "resend_of": original.id},
    )
    return message
