"""CheckoutWorkflow: one per PaymentIntent (the workflow ID *is* the PaymentIntent ID).

Reserve stock, wait for the payment outcome (webhook, storefront `complete`, or timeout), then
place the order, capture, confirm. Deterministic code only: every side effect is an activity.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.types import MethodAsyncSingleParam, ParamType, ReturnType
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.inventory import InventoryActivities
    from activities.notifications import NotificationActivities
    from activities.orders import OrderActivities
    from activities.payments import PaymentActivities
    from domain.attention import RETRY_NOW_SIGNAL
    from domain.checkout import (
        CHECKOUT_STATE_QUERY,
        CHECKOUT_WORKFLOW,
        COMPLETE_UPDATE,
        PAYMENT_EVENT_SIGNAL,
        SYNC_RESERVATION_UPDATE,
        TERMINAL_STATUSES,
        CancelPaymentInput,
        CheckoutInput,
        CheckoutRecord,
        CheckoutState,
        CheckoutStatus,
        CompletionResult,
        FailureCode,
        OrderRef,
        PaymentEvent,
        PaymentIntentSnapshot,
        ReservationResult,
        ReserveInput,
    )
    from domain.fulfillment import FulfillmentInput
    from domain.ids import fulfillment_workflow_id, order_workflow_id
    from domain.orders.operations import CancelRequest
    from domain.orders.records import SYSTEM_ACTOR
    from domain.orders.workflow import (
        STRIPE_EVENT_SIGNAL,
        CancelOrderStep,
        OrderWorkflowInput,
        StripeEventHint,
    )
    from workflows.fulfillment import FulfillmentWorkflow
    from workflows.order import ORDER_CONFIRMS_PATCH, OrderWorkflow
    from workflows.policies import ANALYTICS_RETRY, EMAIL_RETRY, SIDE_EFFECT_TIMEOUT, business_refusal
    from workflows.steps import StepRunner

CART_ID = SearchAttributeKey.for_keyword("CartId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
CHECKOUT_STATUS = SearchAttributeKey.for_keyword("CheckoutStatus")

_FAILURE_CODES = {code.value: code for code in FailureCode}
_IN_FLIGHT = frozenset({CheckoutStatus.PLACING_ORDER, CheckoutStatus.CAPTURING})
# Changes of the commands a checkout issues (workflow.patched): histories recorded before them
# take the old path. Never rename one; remove the old path only once no such checkout can run.
ORDER_WORKFLOW_PATCH = "order-workflow"  # the OrderWorkflow child instead of the FulfillmentWorkflow
CAPTURE_FAILURE_PATCH = "capture-failure"  # a refused capture voids and cancels instead of failing
# Fewer round trips per checkout (issue 12): the short Stripe steps run as local activities, the
# confirmation steps at once, and search attributes are written only for states that last.
LEAN_CHECKOUT_PATCH = "lean-checkout"
# Passing states: shown by the `state` query, not worth a visibility write each.
_PASSING = frozenset({CheckoutStatus.PLACING_ORDER, CheckoutStatus.CAPTURING})
# How an activity's failure arrives: ActivityError from a regular one, ApplicationError from a local one.
_STEP_FAILURES = (ActivityError, ApplicationError)


def _failure_code(error: ActivityError | ApplicationError) -> FailureCode | None:
    """The checkout's FailureCode behind an activity's failure, if it was a business refusal."""
    refusal = business_refusal(error)
    return _FAILURE_CODES.get(refusal.type or "") if refusal is not None else None


@workflow.defn(name=CHECKOUT_WORKFLOW)
class CheckoutWorkflow:
    @workflow.init
    def __init__(self, checkout: CheckoutInput) -> None:
        self._state = CheckoutState(payment_intent_id=checkout.payment_intent_id, cart_id=checkout.cart_id)
        self._seen_event_ids: set[str] = set()
        self._checks_requested = 0
        self._checks_done = 0
        self._reservation: ReservationResult | None = None
        self._lean = False
        self._order_confirms = False
        # Search attributes waiting for the next status write (one upsert carries them all).
        self._unwritten_attributes: list[SearchAttributeUpdate[Any]] = []
        # Reservation (first or after a cart change) and order placement never interleave.
        self._lock = asyncio.Lock()
        self._steps = StepRunner()

    # --- how the outside world talks to a checkout -------------------------------------------

    @workflow.signal(name=PAYMENT_EVENT_SIGNAL)
    def payment_event(self, event: PaymentEvent) -> None:
        """A Stripe webhook: only a hint to re-read the PaymentIntent; duplicates are ignored."""
        if event.event_id in self._seen_event_ids:
            return
        self._seen_event_ids.add(event.event_id)
        self._state.events_seen = len(self._seen_event_ids)
        self._checks_requested += 1

    @workflow.update(name=SYNC_RESERVATION_UPDATE)
    async def sync_reservation(self) -> ReservationResult:
        """Hold stock for the cart as it is now (payment session created or cart changed)."""
        async with self._lock:
            if self._state.status in TERMINAL_STATUSES or self._state.status in _IN_FLIGHT:
                return self._reservation or ReservationResult(
                    reserved=False, failure_code=self._state.failure_code
                )
            self._reservation = await self._reserve()
            return self._reservation

    @workflow.update(name=COMPLETE_UPDATE)
    async def complete(self) -> CompletionResult:
        """The storefront asks: is there an order? Re-reads the payment, then answers."""
        self._checks_requested += 1
        asked = self._checks_requested
        await workflow.wait_condition(
            lambda: (
                self._state.status in TERMINAL_STATUSES
                or (self._checks_done >= asked and self._state.status not in _IN_FLIGHT)
            )
        )
        return CompletionResult(
            order_id=self._state.order_id,
            status=self._state.status,
            failure_code=self._state.failure_code,
            failure_message=self._state.failure_message,
        )

    @workflow.signal(name=RETRY_NOW_SIGNAL)
    def retry_now(self) -> None:
        """Support: run the failing step again now instead of at the end of its pause."""
        self._steps.retry_now()

    @workflow.query(name=CHECKOUT_STATE_QUERY)
    def state(self) -> CheckoutState:
        return self._state.model_copy(update={"attention": self._steps.attention})

    # --- the checkout itself -------------------------------------------------------------------

    @workflow.run
    async def run(self, checkout: CheckoutInput) -> CheckoutState:
        self._lean = workflow.patched(LEAN_CHECKOUT_PATCH)
        self._order_confirms = self._lean and workflow.patched(ORDER_CONFIRMS_PATCH)
        outcome = await self._checkout(checkout)
        # Let a `complete` call that is being answered get its answer before the run closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def _checkout(self, checkout: CheckoutInput) -> CheckoutState:
        if self._state.cart_id is None and not await self._adopt_cart_from_payment():
            return self._state
        self._write_attribute(CART_ID.value_set(self._state.cart_id or ""))

        async with self._lock:
            if self._reservation is None:
                self._reservation = await self._reserve()
        if not self._reservation.reserved:
            await self._cancel_payment(void_authorization=True)
            return await self._finish(
                CheckoutStatus.FAILED, self._reservation.failure_code, self._reservation.failure_message
            )

        await self._set_status(CheckoutStatus.AWAITING_PAYMENT)
        payment = await self._await_payment(timedelta(seconds=checkout.payment_timeout_seconds))
        if payment.authorized or payment.captured:
            return await self._place_order(payment)
        await self._steps.local_activity(
            InventoryActivities.release_cart_inventory, self._state.payment_intent_id
        )
        if self._state.status == CheckoutStatus.EXPIRED:
            return await self._finish(
                CheckoutStatus.EXPIRED, FailureCode.CHECKOUT_EXPIRED, "The payment did not arrive in time"
            )
        return await self._finish(
            CheckoutStatus.CANCELED, FailureCode.PAYMENT_CANCELED, "The payment was canceled"
        )

    async def _adopt_cart_from_payment(self) -> bool:
        """Started by a webhook for a PaymentIntent we have not seen: is it one of ours?"""
        try:
            payment = await self._retrieve()
        except _STEP_FAILURES:
            payment = None
        if payment is None or payment.cart_id is None:
            await self._set_status(CheckoutStatus.IGNORED, record=False)
            self._state.failure_code = FailureCode.NOT_OUR_PAYMENT
            return False
        self._state.cart_id = payment.cart_id
        return True

    async def _await_payment(self, payment_timeout: timedelta) -> PaymentIntentSnapshot:
        """Until the payment is authorized, canceled or the time is up; a decline keeps it open."""
        deadline = workflow.now() + payment_timeout
        while True:
            remaining = deadline - workflow.now()
            try:
                await workflow.wait_condition(
                    lambda: self._checks_requested > self._checks_done,
                    timeout=max(remaining, timedelta(seconds=1)),
                )
            except TimeoutError:
                return await self._expire()
            asked = self._checks_requested
            payment = await self._retrieve()
            if payment.authorized or payment.captured:
                await self._set_status(CheckoutStatus.PLACING_ORDER, record=False)
            elif payment.declined:
                self._state.failure_code = FailureCode.PAYMENT_FAILED
                self._state.failure_message = f"The card was declined ({payment.last_payment_error_code})"
                await self._set_status(CheckoutStatus.PAYMENT_FAILED)
            self._checks_done = asked
            if payment.authorized or payment.captured or payment.canceled:
                return payment

    async def _expire(self) -> PaymentIntentSnapshot:
        """Time is up: cancel the PaymentIntent, unless it was paid at the last moment."""
        payment = await self._cancel_payment(void_authorization=False)
        self._checks_done = self._checks_requested
        if payment.authorized or payment.captured:
            await self._set_status(CheckoutStatus.PLACING_ORDER, record=False)
        else:
            self._state.status = CheckoutStatus.EXPIRED
        return payment

    async def _place_order(self, payment: PaymentIntentSnapshot) -> CheckoutState:
        async with self._lock:
            try:
                order = await self._steps.local_activity(OrderActivities.place_order, payment)
            except (ActivityError, ApplicationError) as error:
                return await self._compensate(payment, error)
        self._state.order_id = order.order_id
        self._write_attribute(ORDER_ID.value_set(order.order_id))
        await self._set_status(CheckoutStatus.CAPTURING, record=False)
        try:
            await self._capture(order.order_id)
        except _STEP_FAILURES as error:
            # Before this patch a refused capture failed the workflow, leaving the authorization
            # held and the order open with nothing to capture or void it.
            if business_refusal(error) is None or not workflow.patched(CAPTURE_FAILURE_PATCH):
                raise
            if not await self._capture_failed(order, error):
                return self._state
        self._state.failure_code = None
        self._state.failure_message = None
        await self._set_status(CheckoutStatus.COMPLETED)
        if self._order_confirms:
            # The order's workflow, started in the task that answers `complete`, sends the
            # confirmation and the analytics event in its own first task: the checkout closes one
            # task later with no activity of its own. A run that was started earlier (an operator's
            # operation or a Stripe event came first) was not asked to: they are sent from here.
            if not await self._start_order_workflow(order, confirm_placed=True):
                await asyncio.gather(self._confirm(order), self._track(order))
            return self._state
        if self._lean:
            # The `complete` update is answered with the commands of this task, which also
            # schedule the email and the analytics event together; the order's workflow starts
            # once both are done (an operator's earlier run of it is then found closed, not raced).
            await asyncio.gather(self._confirm(order), self._track(order))
            await self._start_order_workflow(order)
            return self._state
        await self._confirm(order)
        await self._track(order)
        if workflow.patched(ORDER_WORKFLOW_PATCH):
            await self._start_order_workflow(order)
        else:
            await self._start_fulfillment(order.order_id)
        return self._state

    async def _confirm(self, order: OrderRef) -> None:
        try:
            await self._best_effort(
                NotificationActivities.send_order_confirmation, order.order_id, EMAIL_RETRY
            )
        except ActivityError:
            workflow.logger.warning(
                "confirmation email for %s could not be sent",
                order.order_id,
                extra={"order_id": order.order_id},
            )

    async def _track(self, order: OrderRef) -> None:
        try:
            await self._best_effort(
                NotificationActivities.track_order_placed, order.order_id, ANALYTICS_RETRY
            )
        except ActivityError:
            workflow.logger.warning(
                "analytics event for %s was dropped", order.order_id, extra={"order_id": order.order_id}
            )

    async def _capture_failed(self, order: OrderRef, error: ActivityError | ApplicationError) -> bool:
        """Stripe refused the capture for good. Re-read the payment: captured after all → True (carry
        on); otherwise the authorization is voided, the order canceled with its stock back, and the
        checkout fails with `capture_failed` (on the order's timeline and in /admin/checkouts)."""
        payment = await self._cancel_payment(void_authorization=True)
        if payment.captured:
            await self._capture(order.order_id)  # records it
            return True
        message = f"The capture was refused: {error.cause or error}"
        await self._steps.local_activity(
            OrderActivities.cancel_order,
            CancelOrderStep(
                request=CancelRequest(
                    order_id=order.order_id, request_id="capture-failed", actor=SYSTEM_ACTOR, reason=message
                ),
                voided=True,
                capture_failure=message,
            ),
        )
        await self._start_order_workflow(order)
        await self._finish(CheckoutStatus.FAILED, FailureCode.CAPTURE_FAILED, message)
        return False

    async def _start_order_workflow(self, order: OrderRef, *, confirm_placed: bool = False) -> bool:
        """The order's own workflow outlives the checkout (ABANDON): shipments, refunds, returns.

        Already started (an operator's operation or a Stripe event came first) is fine; that run is
        told to re-read the order, which it may have loaded before this checkout captured it. A
        closed run (REJECT_DUPLICATE) is never opened a second time from here. True when this call
        started it.
        """
        workflow_id = order_workflow_id(self._state.payment_intent_id)
        try:
            await workflow.start_child_workflow(
                OrderWorkflow.run,
                OrderWorkflowInput(
                    order_id=order.order_id,
                    payment_intent_id=self._state.payment_intent_id,
                    confirm_placed=confirm_placed,
                ),
                id=workflow_id,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"Order {order.order_id}",
            )
        except WorkflowAlreadyStartedError:
            with suppress(FailureError):  # closed meanwhile: a new run loads the order afresh
                await workflow.get_external_workflow_handle(workflow_id).signal(
                    STRIPE_EVENT_SIGNAL,
                    StripeEventHint(
                        event_id=f"{self._state.payment_intent_id}:checkout", type="checkout.completed"
                    ),
                )
            return False
        return True

    async def _start_fulfillment(self, order_id: str) -> None:
        """Checkouts recorded before the OrderWorkflow replay this: the legacy FulfillmentWorkflow."""
        # Already running means an operator shipped before we got here (admin signal-with-start);
        # REJECT_DUPLICATE: one that already finished (shipped early) is not opened a second time.
        with suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                FulfillmentWorkflow.run,
                FulfillmentInput(order_id=order_id, payment_intent_id=self._state.payment_intent_id),
                id=fulfillment_workflow_id(self._state.payment_intent_id),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"Fulfillment of order {order_id}",
            )

    async def _compensate(
        self, payment: PaymentIntentSnapshot, error: ActivityError | ApplicationError
    ) -> CheckoutState:
        """No order could be made: give the money back (void or refund) and the stock."""
        code = _failure_code(error)
        if code is None:
            raise error  # not a business refusal: fail the workflow so support can retry it
        if payment.captured:
            await self._steps.activity(PaymentActivities.refund_payment_intent, payment.id)
        else:
            await self._cancel_payment(void_authorization=True)
        await self._steps.local_activity(InventoryActivities.release_cart_inventory, payment.id)
        return await self._finish(CheckoutStatus.FAILED, code, str(error.cause or error))

    # --- small helpers -------------------------------------------------------------------------

    async def _reserve(self) -> ReservationResult:
        request = ReserveInput(
            payment_intent_id=self._state.payment_intent_id, cart_id=self._state.cart_id or ""
        )
        return await self._steps.local_activity(InventoryActivities.reserve_cart_inventory, request)

    async def _retrieve(self) -> PaymentIntentSnapshot:
        self._state.payment_checks += 1
        return await self._stripe_step(
            PaymentActivities.retrieve_payment_intent, self._state.payment_intent_id
        )

    async def _capture(self, order_id: str) -> None:
        await self._stripe_step(PaymentActivities.capture_order_payment, order_id)

    async def _cancel_payment(self, *, void_authorization: bool) -> PaymentIntentSnapshot:
        request = CancelPaymentInput(
            payment_intent_id=self._state.payment_intent_id, void_authorization=void_authorization
        )
        return await self._stripe_step(PaymentActivities.cancel_payment_intent, request)

    async def _stripe_step(
        self, activity: MethodAsyncSingleParam[Any, ParamType, ReturnType], arg: ParamType
    ) -> ReturnType:
        """Retrieve, capture and cancel: one short Stripe call each, safe to repeat (reads, or
        writes with an idempotency key / a state Stripe will not leave), so in the lean checkout
        they run as local activities: a worker that dies mid-call replays them, and nothing goes
        through the server's task queue for them."""
        if self._lean:
            return await self._steps.local_activity(activity, arg)
        return await self._steps.activity(activity, arg)

    async def _best_effort(
        self,
        activity: MethodAsyncSingleParam[Any, ParamType, ReturnType],
        arg: ParamType,
        retry_policy: RetryPolicy,
    ) -> ReturnType:
        """Email and analytics: retried by their own policy, never holding up the checkout."""
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=SIDE_EFFECT_TIMEOUT, retry_policy=retry_policy
        )

    def _write_attribute(self, update: SearchAttributeUpdate[Any]) -> None:
        """Before the lean checkout every attribute had its own upsert; now the next status write
        carries it."""
        if self._lean:
            self._unwritten_attributes.append(update)
        else:
            workflow.upsert_search_attributes([update])

    async def _set_status(self, status: CheckoutStatus, *, record: bool = True) -> None:
        self._state.status = status
        if not (self._lean and status in _PASSING):
            workflow.upsert_search_attributes(
                [*self._unwritten_attributes, CHECKOUT_STATUS.value_set(status.value)]
            )
            self._unwritten_attributes.clear()
        if record and self._state.cart_id:
            await self._steps.local_activity(
                OrderActivities.record_checkout,
                CheckoutRecord(
                    payment_intent_id=self._state.payment_intent_id,
                    cart_id=self._state.cart_id,
                    status=status,
                    order_id=self._state.order_id,
                    failure_code=self._state.failure_code,
                ),
            )

    async def _finish(
        self, status: CheckoutStatus, code: FailureCode | None, message: str | None
    ) -> CheckoutState:
        self._state.failure_code = code
        self._state.failure_message = message
        await self._set_status(status)
        return self._state
