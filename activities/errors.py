"""How a service's refusal leaves an activity: as a business error the workflow can act on."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from services.errors import ServiceError


class _RefusalsAreFinal(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except ServiceError as refused:
            raise ApplicationError(refused.message, type=refused.code, non_retryable=True) from refused


class ServiceRefusals(Interceptor):
    """For every activity of the worker: a ServiceError fails the activity for good.

    Retrying the same request cannot turn a refusal into a success, so it becomes a
    non-retryable ApplicationError whose type is the error's code (for the checkout, one of
    its FailureCodes, which the workflow compensates for).
    """

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _RefusalsAreFinal(next)
