"""The outbox delivery Schedule: what the providers did not take at once is delivered later, once,
or given up as `failed` where an operator sees it (GET /admin/outbox?status=failed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleHandle
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from core.email import EmailMessage
from domain.ids import new_id
from domain.outbox import DeliveryRun, outbox_schedule_id
from domain.roles import NewApiKey, Role
from models import OutboxMessage, Region
from services.api_keys import create_key
from tests.checkout.conftest import MakeVariant, Shopper, admin_headers, buy, outbox_of, stack_on_own_queue
from tests.conftest import ASYNC_DEADLINE, Outgoing, eventually
from worker import ensure_schedule, outbox_schedule

MAX_ATTEMPTS = 3


async def attempted(order_id: str, channel: str) -> list[OutboxMessage]:
    """The order's messages of this channel once each was tried at least once."""
    messages = await outbox_of(order_id, channel)
    return messages if messages and all(m.attempts for m in messages) else []


@dataclass
class DeliveryStack:
    shopper: Shopper
    senders: Outgoing
    temporal: Client
    schedule: ScheduleHandle

    async def run_delivery(self) -> DeliveryRun:
        """One run of the Schedule's workflow, now (as at its interval), to its end."""
        before = (await self.schedule.describe()).info.num_actions
        await self.schedule.trigger()

        async def started() -> ScheduleActionExecutionStartWorkflow | None:
            info = (await self.schedule.describe()).info
            action = info.recent_actions[-1].action if info.num_actions > before else None
            return action if isinstance(action, ScheduleActionExecutionStartWorkflow) else None

        action = await eventually(started)
        run = self.temporal.get_workflow_handle(action.workflow_id, run_id=action.first_execution_run_id)
        return DeliveryRun.model_validate(await asyncio.wait_for(run.result(), timeout=ASYNC_DEADLINE))


@pytest.fixture
async def delivery(
    temporal_env: WorkflowEnvironment, regions: dict[str, Region], localstripe_url: str
) -> AsyncIterator[DeliveryStack]:
    """A stack of its own whose failed messages are due again at once, given up after 3 attempts,
    with its delivery Schedule as the worker creates it (runs every minute; triggered here)."""
    senders = Outgoing()
    async with stack_on_own_queue(
        temporal_env, regions, senders, outbox_retry_base_seconds=0, outbox_max_attempts=MAX_ATTEMPTS
    ) as (settings, shopper):
        schedule_id = outbox_schedule_id(settings.temporal_task_queue)
        await ensure_schedule(temporal_env.client, schedule_id, outbox_schedule(settings))
        schedule = temporal_env.client.get_schedule_handle(schedule_id)
        try:
            yield DeliveryStack(
                shopper=shopper, senders=senders, temporal=temporal_env.client, schedule=schedule
            )
        finally:
            await schedule.delete()


@pytest.mark.e2e
async def test_events_queued_while_analytics_is_down_are_delivered_once_when_it_is_back(
    delivery: DeliveryStack, make_variant: MakeVariant
) -> None:
    delivery.senders.fail_analytics = True
    orders = [(await buy(delivery.shopper, await make_variant(stock=3))).order["id"] for _ in range(2)]
    for order_id in orders:
        [event] = await eventually(lambda order_id=order_id: attempted(order_id, "analytics"))
        assert (event.status, event.attempts) == ("pending", 1)

    # Still down at the Schedule's next run: tried again, kept.
    await delivery.run_delivery()
    for order_id in orders:
        [event] = await outbox_of(order_id, "analytics")
        assert (event.status, event.attempts) == ("pending", 2)
        assert event.last_error is not None and "PostHog is unreachable" in event.last_error

    delivery.senders.fail_analytics = False
    await delivery.run_delivery()
    await delivery.run_delivery()  # a later run finds nothing of theirs to send again

    for order_id in orders:
        received = [e for e in delivery.senders.events if e["distinct_id"] == order_id]
        assert [e["event"] for e in received] == ["order_placed"]
        assert received[0]["properties"] == {
            "order_id": order_id,
            "total": received[0]["properties"]["total"],
            "currency_code": "eur",
            "items": 1,
        }
        [event] = await outbox_of(order_id, "analytics")
        assert (event.status, event.sent_at is not None) == ("sent", True)


@pytest.mark.e2e
async def test_an_email_that_keeps_failing_ends_failed_and_is_listed(
    delivery: DeliveryStack, make_variant: MakeVariant
) -> None:
    delivery.senders.fail_emails = True
    order_id = (await buy(delivery.shopper, await make_variant(stock=3))).order["id"]
    await eventually(lambda: attempted(order_id, "email"))  # the checkout's own attempt: 1
    for _ in range(MAX_ATTEMPTS):  # attempts 2 and 3, then one that finds nothing left to try
        await delivery.run_delivery()

    [email] = await outbox_of(order_id, "email")
    assert (email.status, email.attempts) == ("failed", MAX_ATTEMPTS)
    assert not delivery.senders.emails
    listed = await delivery.shopper.http.get(
        "/admin/outbox",
        params={"status": "failed", "channel": "email", "limit": 500},
        headers=admin_headers(),
    )
    assert listed.status_code == 200, listed.text
    [mine] = [m for m in listed.json()["messages"] if m["payload"].get("order_id") == order_id]
    assert mine["status"] == "failed"
    assert mine["attempts"] == MAX_ATTEMPTS
    assert "Resend answered 503" in mine["last_error"]
    # The analytics event of the same order was delivered: only the email is given up.
    [event] = await outbox_of(order_id, "analytics")
    assert event.status == "sent"


@pytest.fixture
async def support_key(database_url: str) -> tuple[str, str]:
    """A live support key: (its name, its secret)."""
    name = f"support-{new_id('key')[-8:].lower()}"
    async with get_sessionmaker()() as session, session.begin():
        issued = await create_key(session, NewApiKey(name=name, role=Role.SUPPORT), actor="test")
    return name, issued.secret


@pytest.mark.e2e
async def test_support_resends_the_confirmation_email_and_the_timeline_says_who(
    delivery: DeliveryStack, make_variant: MakeVariant, support_key: tuple[str, str]
) -> None:
    order_id = (await buy(delivery.shopper, await make_variant(stock=3))).order["id"]
    [original] = await eventually(lambda: delivered(delivery.senders, order_id))
    name, secret = support_key

    answer = await delivery.shopper.http.post(
        f"/admin/orders/{order_id}/emails/confirmation/resend", headers={"Authorization": f"Bearer {secret}"}
    )

    assert answer.status_code == 202, answer.text
    queued = answer.json()["message"]
    assert (queued["channel"], queued["status"], queued["payload"]["order_id"]) == (
        "email",
        "pending",
        order_id,
    )
    # Delivered by the Schedule's workflow (the route triggered it): a second Resend request, its own key.
    first, second = await eventually(lambda: delivered(delivery.senders, order_id, count=2))
    assert first == original
    assert (second[0].to, second[0].subject, second[0].text) == (
        original[0].to,
        original[0].subject,
        original[0].text,
    )
    assert second[1] != original[1] and ":resend:confirmation:" in second[1]

    timeline = await delivery.shopper.http.get(f"/admin/orders/{order_id}", headers=admin_headers())
    resent = [e for e in timeline.json()["order"]["events"] if e["type"] == "email_resent"]
    assert [(e["actor"], e["data"]["kind"], e["data"]["message_id"]) for e in resent] == [
        (name, "confirmation", queued["id"])
    ]


@pytest.mark.e2e
async def test_a_resend_of_an_email_never_due_or_of_no_order_is_refused(
    delivery: DeliveryStack, make_variant: MakeVariant, support_key: tuple[str, str]
) -> None:
    order_id = (await buy(delivery.shopper, await make_variant(stock=3))).order["id"]
    await eventually(lambda: delivered(delivery.senders, order_id))
    headers = {"Authorization": f"Bearer {support_key[1]}"}

    async def resend(order: str, kind: str) -> tuple[int, str]:
        answer = await delivery.shopper.http.post(
            f"/admin/orders/{order}/emails/{kind}/resend", headers=headers
        )
        return answer.status_code, answer.json()["error"]["code"]

    # Nothing shipped, refunded or canceled yet: those emails were never due.
    for kind in ("shipment", "refund", "cancellation"):
        assert await resend(order_id, kind) == (409, "email_not_due")
    assert await resend("order_01NOSUCHORDER0000000000000", "confirmation") == (404, "order_not_found")
    # Not one of the kinds (api/errors.py: a request the schema refuses is 400 invalid_request).
    assert await resend(order_id, "invoice") == (400, "invalid_request")
    assert await resend(order_id, "dispute") == (
        400,
        "invalid_request",
    )  # the shop's notice, not the customer's
    # Nothing was queued by the refusals: the customer still has one email.
    assert len(await outbox_of(order_id, "email")) == 1


async def delivered(senders: Outgoing, order_id: str, *, count: int = 1) -> list[tuple[EmailMessage, str]]:
    """The Resend requests of this order's emails, once there are `count` of them."""
    mine = [(message, key) for message, key in senders.emails if key.startswith(f"{order_id}:")]
    return mine if len(mine) >= count else []
