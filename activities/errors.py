"""How an activity's errors leave it: every one classified for the workflow's step runner.

* A service's refusal (ServiceError) is a business refusal: a non-retryable ApplicationError whose
  type is its code (for the checkout, one of its FailureCodes, which the workflow compensates for).
  Retrying the same request cannot turn a refusal into a success.
* A configuration error — Stripe refusing our API key (401 AuthenticationError, 403
  PermissionError: a wrong or rotated key), a sales channel with no stock location — is the
  operator's to fix, not the customer's: a *retryable* ApplicationError of type
  `configuration_error`, so open checkouts stay open and the workflow raises NeedsAttention until
  it is fixed (workflows/steps.py).
* Anything else (a database or network outage, a bug) stays as it is: retryable, and the step
  runner raises NeedsAttention once a round of attempts has failed.
"""

from __future__ import annotations

from typing import Any

import stripe
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from domain.attention import CONFIGURATION_ERROR
from services.errors import ServiceError

# Service refusals that are a setup mistake rather than the request's fault.
CONFIGURATION_CODES = frozenset({"location_not_mapped"})


def configuration_error(message: str, code: str) -> ApplicationError:
    return ApplicationError(f"{code}: {message}", code, type=CONFIGURATION_ERROR, non_retryable=False)


class _ClassifiedErrors(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except ServiceError as refused:
            if refused.code in CONFIGURATION_CODES:
                raise configuration_error(refused.message, refused.code) from refused
            raise ApplicationError(refused.message, type=refused.code, non_retryable=True) from refused
        except (stripe.AuthenticationError, stripe.PermissionError) as rejected:
            code = (
                "stripe_key_rejected"
                if isinstance(rejected, stripe.AuthenticationError)
                else "stripe_key_forbidden"
            )
            raise configuration_error(str(rejected.user_message or rejected), code) from rejected


class ServiceRefusals(Interceptor):
    """For every activity of the worker: its errors classified as the module docstring says."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ClassifiedErrors(next)
