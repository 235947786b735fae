"""The checkout workflow on Temporal's time-skipping server, with the real activities."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.settings import get_settings
from models import Region
from tests.checkout.conftest import Shopper, make_variant, regions
from tests.conftest import Outgoing, stack_activities
from worker import build_worker

__all__ = ["make_variant", "regions"]  # fixtures shared with the end-to-end checkout tests

WorkerFactory = Callable[[], AbstractAsyncContextManager[Worker]]


@pytest.fixture
def new_worker(
    time_skipping_env: WorkflowEnvironment, localstripe_url: str, outgoing: Outgoing
) -> WorkerFactory:
    """A fresh production worker on the time-skipping server; tests start and stop it at will."""

    def make() -> AbstractAsyncContextManager[Worker]:
        return build_worker(
            time_skipping_env.client, get_settings().temporal_task_queue, stack_activities(outgoing)
        )

    return make


@pytest.fixture
async def skipping_shopper(
    time_skipping_env: WorkflowEnvironment, localstripe_url: str, regions: dict[str, Region]
) -> AsyncIterator[Shopper]:
    """The store API in-process, starting its checkouts on the time-skipping server."""
    from api.main import create_app

    app = create_app()
    app.state.temporal = time_skipping_env.client
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as http:
        yield Shopper(http=http, regions=regions)
