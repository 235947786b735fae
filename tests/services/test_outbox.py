"""The outbox's first attempt: a message queued and tried at once is written already claimed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.ids import new_id
from domain.outbox import OutboxChannel, OutboxStatus
from services import outbox
from services.outbox import RetryRule

RULE = RetryRule(max_attempts=5, base_seconds=60, cap_seconds=600)


async def _enqueue(session: AsyncSession, key: str) -> tuple[str, int, datetime, bool]:
    async with session.begin():
        message, claimed = await outbox.enqueue(
            session,
            channel=OutboxChannel.EMAIL,
            key=key,
            recipient="towel@example.com",
            subject="Your order",
            payload={"html": "<p>Hi</p>", "text": "Hi"},
            first_attempt=RULE,
        )
        return message.id, message.attempts, message.next_attempt_at, claimed


async def test_a_message_being_sent_is_not_taken_by_a_delivery_run_until_its_lease_ends(
    session: AsyncSession,
) -> None:
    """The worker sending a confirmation may die mid-call: the delivery Schedule must neither send
    it alongside (a second email) nor lose it (it is due once the attempt's lease has passed)."""
    key = f"test:{new_id('msg')}"

    message_id, attempts, due_at, claimed = await _enqueue(session, key)

    assert claimed and attempts == 1
    assert due_at > datetime.now(UTC)
    async with session.begin():
        assert await outbox.claim_due(session, RULE, limit=10, message_id=message_id) == []

    # The activity retried: the same row, not claimed a second time by this call.
    again_id, again_attempts, _, claimed_again = await _enqueue(session, key)
    assert (again_id, again_attempts, claimed_again) == (message_id, 1, False)

    async with session.begin():
        await outbox.record_delivered(session, message_id, OutboxStatus.SENT)
