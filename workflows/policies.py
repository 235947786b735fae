"""Activity timeouts and retry policies shared by the workflows."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# Database and Stripe calls: their retries are the step runner's (workflows/steps.py), which
# stops at a business refusal (a non-retryable ApplicationError).
SIDE_EFFECT_TIMEOUT = timedelta(seconds=30)
# Email is retried for hours: it may never fail a paid checkout or a shipped order.
EMAIL_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=50)
# Analytics is retried a few times only: it may never fail a paid checkout.
ANALYTICS_RETRY = RetryPolicy(maximum_attempts=3)


def business_refusal(error: BaseException) -> ApplicationError | None:
    """The business refusal behind an activity's failure (a non-retryable ApplicationError), if it was one.

    A regular activity's failure arrives as ActivityError wrapping the ApplicationError; a local
    activity's as the ApplicationError itself.
    """
    cause = error.cause if isinstance(error, ActivityError) else error
    if isinstance(cause, ApplicationError) and cause.non_retryable:
        return cause
    return None
