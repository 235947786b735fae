"""The step runner both workflows run their side-effect activities through.

A step runs with a bounded retry policy (STEP_ATTEMPTS per round). A business refusal (a
non-retryable ApplicationError) is raised to the workflow as before, which compensates. Any other
failure past a round's attempts (Stripe or the database down, a rotated Stripe key, a sales
channel without a stock location: `configuration_error`) does not fail the run: the workflow
marks itself `NeedsAttention = true` (+ `AttentionReason`), publishes the failure in its `state`
Query, and waits (a durable timer that doubles up to MAX_PAUSE, or support's `retry_now` signal)
before the next round; the first success clears the mark. A step that succeeds at once costs
nothing: no extra command, upsert or marker.

Replay: the retry policy of a scheduled activity is not part of what a replay compares, so steps
are always scheduled with STEP_RETRY; what is new in the history (the mark, the pause) comes only
after a round of attempts failed, behind `workflow.patched(ATTENTION_PATCH)` asked there. Runs
recorded before the runner never reach it (their steps retried without end inside one activity).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.types import MethodAsyncSingleParam, ParamType, ReturnType

with workflow.unsafe.imports_passed_through():
    from domain.attention import ATTENTION_REASON, CONFIGURATION_ERROR, NEEDS_ATTENTION, Attention
    from workflows.policies import SIDE_EFFECT_TIMEOUT, business_refusal

# Never rename it: histories recorded with the runner carry this marker.
ATTENTION_PATCH = "needs-attention"
NEEDS_ATTENTION_KEY = SearchAttributeKey.for_bool(NEEDS_ATTENTION)
ATTENTION_REASON_KEY = SearchAttributeKey.for_keyword(ATTENTION_REASON)

STEP_ATTEMPTS = 3
STEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=STEP_ATTEMPTS)
FIRST_PAUSE = timedelta(seconds=10)
MAX_PAUSE = timedelta(minutes=10)

T = TypeVar("T")


def pause_after(rounds: int) -> timedelta:
    """How long the workflow waits after its `rounds`-th failed round: 10 s, 20 s, 40 s ... 10 min."""
    doubled: timedelta = FIRST_PAUSE * 2 ** min(rounds - 1, 16)
    return min(doubled, MAX_PAUSE)


def _reason(error: ActivityError | ApplicationError) -> str:
    cause = error.cause if isinstance(error, ActivityError) else error
    if isinstance(cause, ApplicationError) and cause.type == CONFIGURATION_ERROR:
        return CONFIGURATION_ERROR
    return "step_failing"


def _failure_text(error: ActivityError | ApplicationError) -> str:
    cause = error.cause if isinstance(error, ActivityError) and error.cause is not None else error
    return f"{type(cause).__name__}: {cause}"[:1000]


class StepRunner:
    """One per workflow run. `attention` is what the `state` Query shows; `retry_now` is the signal."""

    def __init__(self) -> None:
        self._failing: dict[str, Attention] = {}
        self._retries_requested = 0

    @property
    def attention(self) -> Attention | None:
        """The longest-failing step, if any step is failing."""
        return min(self._failing.values(), key=lambda a: a.since, default=None)

    def retry_now(self) -> None:
        self._retries_requested += 1

    async def run(self, step: str, call: Callable[[RetryPolicy], Awaitable[T]]) -> T:
        """`call(retry_policy)` until it succeeds or is refused for good (the refusal is raised)."""
        rounds = 0
        while True:
            try:
                result = await call(STEP_RETRY)
            except (ActivityError, ApplicationError) as error:
                if business_refusal(error) is not None:
                    self._recovered(step)
                    raise
                if not workflow.patched(ATTENTION_PATCH):
                    raise  # as before the runner: the failure reaches the workflow
                rounds += 1
                await self._wait_for_next_round(step, error, rounds)
                continue
            self._recovered(step)
            return result

    async def _wait_for_next_round(
        self, step: str, error: ActivityError | ApplicationError, rounds: int
    ) -> None:
        earlier = self._failing.get(step)
        reason = _reason(error)
        self._failing[step] = Attention(
            step=step,
            reason=reason,
            last_failure=_failure_text(error),
            attempts=rounds * STEP_ATTEMPTS,
            since=earlier.since if earlier is not None else workflow.now(),
        )
        if earlier is None or earlier.reason != reason:
            workflow.upsert_search_attributes(
                [NEEDS_ATTENTION_KEY.value_set(True), ATTENTION_REASON_KEY.value_set(reason)]
            )
        workflow.logger.warning(
            "step %s failed %d times, next round in %s", step, rounds * STEP_ATTEMPTS, pause_after(rounds)
        )
        asked = self._retries_requested
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._retries_requested > asked, timeout=pause_after(rounds)
            )

    async def activity(
        self, activity: MethodAsyncSingleParam[Any, ParamType, ReturnType], arg: ParamType
    ) -> ReturnType:
        """A regular activity as a step (Stripe calls and the like)."""
        return await self.run(
            step_name(activity),
            lambda retry: workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=SIDE_EFFECT_TIMEOUT, retry_policy=retry
            ),
        )

    async def local_activity(
        self, activity: MethodAsyncSingleParam[Any, ParamType, ReturnType], arg: ParamType
    ) -> ReturnType:
        """A local activity as a step: no round trip through the server (about 10 ms here instead
        of 60), for short database transactions and short idempotent Stripe calls."""
        return await self.run(
            step_name(activity),
            lambda retry: workflow.execute_local_activity_method(
                activity, arg, start_to_close_timeout=SIDE_EFFECT_TIMEOUT, retry_policy=retry
            ),
        )

    def _recovered(self, step: str) -> None:
        if self._failing.pop(step, None) is None:
            return
        still = self.attention
        if still is not None:  # another step still fails: its reason is the one to show
            workflow.upsert_search_attributes([ATTENTION_REASON_KEY.value_set(still.reason)])
        else:
            workflow.upsert_search_attributes(
                [NEEDS_ATTENTION_KEY.value_set(False), ATTENTION_REASON_KEY.value_unset()]
            )


def step_name(activity: object) -> str:
    """An activity method's name: the step named in `attention`."""
    return str(getattr(activity, "__name__", activity))
