"""A refund whose Stripe answer is lost, and a worker killed in the middle of one: one refund."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.db import get_sessionmaker
from core.stripe_gateway import get_stripe_client
from devstack.fakestripe import delay_requests
from models import Region
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    admin_headers,
    buy,
    store_on_own_queue,
    transactions_of,
)
from tests.conftest import Outgoing, eventually
from tests.orders.conftest import Admin, fake_stripe_url, stripe_refunds
from worker import build_activities, build_worker

# Longer than the activity's 30 s start-to-close timeout: the first attempt's answer never counts.
LOST_ANSWER_SECONDS = 35


async def _refund_until_answered(
    admin: Admin, order_id: str, body: dict[str, Any], key: str
) -> httpx.Response:
    """Repeat the same request (same key) while the API answers 503 operation_pending, as a client would."""
    for _ in range(6):
        answer = await admin.refund(order_id, body, key=key)
        if answer.status_code != 503:
            return answer
        assert answer.json()["error"]["code"] == "operation_pending", answer.text
        assert answer.headers["Retry-After"]
    raise AssertionError("the refund never got an answer")


@pytest.mark.e2e
async def test_refund_retried_after_stripe_made_it_but_the_answer_was_lost_is_one_refund(
    shopper: Shopper, admin: Admin, make_variant: MakeVariant
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id = purchase.order["id"]
    await delay_requests(fake_stripe_url(), "/v1/refunds", LOST_ANSWER_SECONDS)

    answer = await _refund_until_answered(
        admin, order_id, {"amount": 1200, "reason": "requested_by_customer"}, "lost"
    )

    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["refund"]["status"] == "succeeded"
    assert [r["amount"] for r in await stripe_refunds(purchase.payment_intent_id)] == [1200]
    assert [t.amount for t in await transactions_of(order_id) if t.reference == "refund"] == [-1200]


_WORKER = """
import asyncio
from core.db import get_sessionmaker
from core.db import get_sessionmaker
from core.settings import get_settings
from core.stripe_gateway import get_stripe_client
from core.stripe_gateway import get_stripe_client
from core.temporal import connect_temporal
from worker import build_activities, build_worker

async def main():
    settings = get_settings()
    client = await connect_temporal(settings)
    activities = build_activities(settings=settings, sessionmaker=get_sessionmaker(),
        stripe_client=get_stripe_client(), email_sender=None, analytics=None)
    print("polling", flush=True)
    await build_worker(client, settings.temporal_task_queue, activities).run()

asyncio.run(main())
"""


@pytest.mark.e2e
async def test_worker_killed_during_a_refund_the_next_one_finishes_it_with_one_refund(
    temporal_env: WorkflowEnvironment,
    shopper: Shopper,
    regions: dict[str, Region],
    make_variant: MakeVariant,
    outgoing: Outgoing,
) -> None:
    purchase = await buy(shopper, await make_variant(stock=3))
    order_id = purchase.order["id"]
    # The refund runs on a task queue of its own, served first by a worker process we kill.
    settings, app = store_on_own_queue(temporal_env.client, "kill-test")
    environment = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WORKER, env=environment, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None and (await process.stdout.readline()).strip() == b"polling"
        await delay_requests(fake_stripe_url(), "/v1/refunds", 20)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://admin",
            headers=admin_headers(),
            timeout=60,
        ) as http:
            admin = Admin(http=http)
            body = {"amount": 1500, "reason": "requested_by_customer"}
            pending = asyncio.create_task(admin.refund(order_id, body, key="killed"))
            # Stripe made the refund; its answer has not reached the worker yet.
            await eventually(lambda: stripe_refunds(purchase.payment_intent_id))
            process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(process.wait(), 10)

            async with build_worker(
                temporal_env.client,
                settings.temporal_task_queue,
                build_activities(
                    settings=settings,
                    sessionmaker=get_sessionmaker(),
                    stripe_client=get_stripe_client(),
                    email_sender=outgoing,
                    analytics=outgoing,
                ),
            ):
                first = await pending
                answer = (
                    first
                    if first.status_code != 503
                    else await _refund_until_answered(admin, order_id, body, "killed")
                )
    finally:
        if process.returncode is None:
            process.kill()

    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["refund"]["status"] == "succeeded"
    assert [r["amount"] for r in await stripe_refunds(purchase.payment_intent_id)] == [1500]
    assert [t.amount for t in await transactions_of(order_id) if t.reference == "refund"] == [-1500]
