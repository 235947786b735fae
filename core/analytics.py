"""Product analytics through PostHog. Never on the critical path of a checkout."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Protocol

from posthog import Posthog


class AnalyticsSink(Protocol):
    async def capture(
        self, *, event: str, distinct_id: str, properties: dict[str, Any], event_uuid: uuid.UUID
    ) -> None: ...


class PostHogSink:
    def __init__(self, api_key: str, host: str) -> None:
        # sync_mode: the activity must know whether the event left, so a failure is retried.
        self._client = Posthog(api_key, host=host, sync_mode=True)

    async def capture(
        self, *, event: str, distinct_id: str, properties: dict[str, Any], event_uuid: uuid.UUID
    ) -> None:
        await asyncio.to_thread(
            self._client.capture, event, distinct_id=distinct_id, properties=properties, uuid=event_uuid
        )


def stable_event_uuid(key: str) -> uuid.UUID:
    """The same business event always gets the same UUID, so PostHog deduplicates retries."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"gracestowel:{key}")
