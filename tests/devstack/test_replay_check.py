"""`make replay-check` (devstack/replay_check.py) against a real Temporal dev server: the open
workflows of today's code replay; a deliberately breaking change fails, naming the workflow."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from devstack.replay_check import open_workflows_query, run_check
from domain.ids import order_workflow_id
from models import Region
from tests.checkout.conftest import (
    MakeVariant,
    Shopper,
    make_variant,
    pay,
    regions,
    store_on_own_queue,
    workflow_outcome,
)
from tests.conftest import Outgoing, eventually, free_port, stack_activities
from tests.devstack.breaking_checkout import CheckoutReadingThePaymentFirst
from worker import WORKFLOWS, build_worker
from workflows.fulfillment import FulfillmentWorkflow
from workflows.order import OrderWorkflow
from workflows.reconciler import StripeReconcilerWorkflow

__all__ = ["make_variant", "regions"]  # the end-to-end checkout tests' fixtures


@dataclass
class OpenWorkflows:
    settings: Settings
    checkouts: list[str]  # awaiting their payment
    order: str  # the order workflow of a checkout that completed (closed, so not listed)


@pytest.fixture
async def open_workflows(
    temporal_env: WorkflowEnvironment,
    regions: dict[str, Region],
    make_variant: MakeVariant,
    outgoing: Outgoing,
    database_url: str,
    localstripe_url: str,
) -> AsyncIterator[OpenWorkflows]:
    """On a task queue of their own: two checkouts waiting for their payment, and one paid whose
    checkout has finished and whose order's own workflow lives on."""
    settings, app = store_on_own_queue(temporal_env.client, "replay-check")
    settings = settings.model_copy(
        update={"temporal_address": temporal_env.client.service_client.config.target_host}
    )
    variant_id = await make_variant(stock=10)
    worker = build_worker(temporal_env.client, settings.temporal_task_queue, stack_activities(outgoing))
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as http,
        worker,
    ):
        shopper = Shopper(http=http, regions=regions)
        checkouts = [(await shopper.open_checkout("eur", [(variant_id, 1)]))[1] for _ in range(2)]
        paid_cart, paid = await shopper.open_checkout("eur", [(variant_id, 1)])
        await pay(paid)
        completed = await shopper.complete(paid_cart["id"])
        assert completed.status_code == 200, completed.text
        await workflow_outcome(temporal_env, paid)  # closed, its order's workflow started
    opened = OpenWorkflows(settings=settings, checkouts=checkouts, order=order_workflow_id(paid))

    async def all_listed() -> bool:
        query = open_workflows_query(settings.temporal_task_queue, WORKFLOWS)
        listed = {execution.id async for execution in temporal_env.client.list_workflows(query)}
        return listed == {*checkouts, opened.order}

    await eventually(all_listed)  # the visibility store catches up a moment later
    try:
        yield opened
    finally:
        for workflow_id in [*checkouts, opened.order]:
            await temporal_env.client.get_workflow_handle(workflow_id).terminate("replay-check test done")


def test_the_query_lists_running_workflows_of_our_types_on_our_queue() -> None:
    assert open_workflows_query("gracestowel", WORKFLOWS) == (
        "ExecutionStatus = 'Running' AND TaskQueue = 'gracestowel' AND WorkflowType IN "
        "('CheckoutWorkflow', 'OrderWorkflow', 'FulfillmentWorkflow', 'StripeReconcilerWorkflow',"
        " 'OutboxDeliveryWorkflow')"
    )


def test_open_workflows_replay_on_the_code_checked_out(open_workflows: OpenWorkflows, tmp_path: Path) -> None:
    """`python -m devstack.replay_check` as `make replay-check` runs it, settings from the environment."""
    settings = open_workflows.settings
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env |= {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
    }
    done = subprocess.run(
        [sys.executable, "-m", "devstack.replay_check"],
        cwd=tmp_path,  # no .env
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 open workflow(s)" in done.stdout
    assert "CheckoutWorkflow: 2" in done.stdout
    assert "OrderWorkflow: 1" in done.stdout


async def test_a_breaking_change_fails_the_check_naming_the_workflow(open_workflows: OpenWorkflows) -> None:
    out = io.StringIO()
    changed = [CheckoutReadingThePaymentFirst, OrderWorkflow, FulfillmentWorkflow, StripeReconcilerWorkflow]

    code = await run_check(open_workflows.settings, changed, out)

    assert code == 1, out.getvalue()
    report = out.getvalue()
    assert "replay-check: FAILED" in report
    assert "NondeterminismError" in report
    named = [workflow_id for workflow_id in open_workflows.checkouts if f"Workflow {workflow_id} " in report]
    assert len(named) == 1, report


async def test_no_open_workflow_passes(temporal_env: WorkflowEnvironment) -> None:
    out = io.StringIO()
    address = temporal_env.client.service_client.config.target_host
    nothing_open = Settings(temporal_address=address, temporal_task_queue="nobody-polls-this")

    assert await run_check(nothing_open, WORKFLOWS, out) == 0
    assert "0 open workflow(s)" in out.getvalue()


async def test_an_unreachable_server_is_exit_code_2() -> None:
    out = io.StringIO()
    nowhere = Settings(temporal_address=f"127.0.0.1:{free_port()}")

    assert await run_check(nowhere, WORKFLOWS, out) == 2
    assert "could not ask Temporal" in out.getvalue()
