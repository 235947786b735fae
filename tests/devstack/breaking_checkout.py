"""A deliberately breaking change of CheckoutWorkflow, for the replay check's test only.

Registered under the same type name, it re-reads the PaymentIntent (an activity) before it
reserves the stock (a local activity): the commands of a running checkout come in another
order, which is exactly what a deploy must not do without `workflow.patched()`.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.checkout import CHECKOUT_WORKFLOW, CheckoutInput, CheckoutState, ReservationResult
    from workflows.checkout import CheckoutWorkflow


@workflow.defn(name=CHECKOUT_WORKFLOW)
class CheckoutReadingThePaymentFirst(CheckoutWorkflow):
    @workflow.run
    async def run(self, checkout: CheckoutInput) -> CheckoutState:
        return await super().run(checkout)

    async def _reserve(self) -> ReservationResult:
        await self._retrieve()
        return await super()._reserve()
