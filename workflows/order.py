"""OrderWorkflow: one per order (ID `{pi}:order`), the one writer of its order after checkout.

Every operation (ship, cancel, refund, returns) is a Workflow Update with a validator, applied one
at a time under one lock (also taken by the Stripe-event processing), idempotent by request ID.
Stripe events about the order's charge arrive as `stripe_event` signals: only hints, after which
one activity re-reads Stripe and reconciles the database. The run continues-as-new before its
history grows large and closes once the return and dispute windows have passed and nothing is
open; a later operation or event starts a new run (the database is the durable record).
Deterministic code only: every side effect is an activity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from activities.orders import OrderActivities
    from activities.payments import PaymentActivities
    from activities.refunds import RefundActivities
    from domain.attention import RETRY_NOW_SIGNAL
    from domain.checkout import CancelPaymentInput
    from domain.orders.operations import (
        CancelRequest,
        CancelReturnRequest,
        ItemQuantity,
        OperationOutcome,
        OrderRefused,
        ReceiveReturnRequest,
        RefundReason,
        RefundRequest,
        RefundSource,
        ReturnRequest,
        ShipRequest,
        check_cancel,
        check_cancel_return,
        check_receive_return,
        check_refund,
        check_return,
        check_ship,
        return_refund_items,
    )
    from domain.orders.snapshot import OrderSnapshot
    from domain.orders.workflow import (
        CANCEL_RETURN_UPDATE,
        CANCEL_UPDATE,
        ORDER_STATE_QUERY,
        ORDER_WORKFLOW,
        RECEIVE_RETURN_UPDATE,
        REFUND_UPDATE,
        REMEMBERED_EVENTS,
        REMEMBERED_REQUESTS,
        REQUEST_RETURN_UPDATE,
        SHIP_UPDATE,
        STRIPE_EVENT_SIGNAL,
        Applied,
        CancelOrderStep,
        CarriedState,
        EmailKind,
        EmailRequest,
        OrderWorkflowInput,
        OrderWorkflowState,
        RefundRef,
        StripeEventHint,
    )
    from workflows.policies import ANALYTICS_RETRY, EMAIL_RETRY, SIDE_EFFECT_TIMEOUT, business_refusal
    from workflows.steps import StepRunner

ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
# The order's workflow sends the confirmation and the analytics event that the checkout sent before
# (issue 12: two activity round trips and a workflow task fewer per order). Both workflows mark it:
# the checkout where it starts this one with `confirm_placed`, this one where it sends them.
ORDER_CONFIRMS_PATCH = "order-confirms"


class _Request(Protocol):
    @property
    def request_id(self) -> str: ...


R = TypeVar("R", bound=_Request)
T = TypeVar("T")


def _refused(refusal: OrderRefused | ApplicationError) -> ApplicationError:
    """A refusal as the Update's failure: its type is the error code the API answers with."""
    if isinstance(refusal, ApplicationError):
        return ApplicationError(refusal.message, type=refusal.type, non_retryable=True)
    return ApplicationError(refusal.message, type=refusal.code, non_retryable=True)


def _checked(check: Callable[[OrderSnapshot, R], T], snapshot: OrderSnapshot, request: R) -> T:
    try:
        return check(snapshot, request)
    except OrderRefused as refusal:
        raise _refused(refusal) from None


@workflow.defn(name=ORDER_WORKFLOW)
class OrderWorkflow:
    @workflow.init
    def __init__(self, start: OrderWorkflowInput) -> None:
        self._order_id = start.order_id
        self._payment_intent_id = start.payment_intent_id
        self._snapshot = start.snapshot
        self._return_window_days = start.return_window_days
        self._dispute_window_days = start.dispute_window_days
        self._continue_as_new_after = start.continue_as_new_after
        carried = start.carried or CarriedState()
        self._outcomes = {outcome.request_id: outcome for outcome in carried.outcomes}
        self._seen_events = dict.fromkeys(carried.seen_event_ids)
        self._sync_pending = carried.sync_pending
        self._changes = 0  # bumped whenever the snapshot changes: the run loop re-decides then
        self._operations = 0
        self._syncs = 0
        self._published_status: str | None = None
        self._lock = asyncio.Lock()
        self._steps = StepRunner()

    # --- how the outside world talks to an order ------------------------------------------------

    @workflow.signal(name=STRIPE_EVENT_SIGNAL)
    def stripe_event(self, hint: StripeEventHint) -> None:
        """Something happened to the order's charge: re-read Stripe (once per event ID)."""
        if hint.event_id in self._seen_events:
            return
        self._seen_events[hint.event_id] = None
        while len(self._seen_events) > REMEMBERED_EVENTS:
            del self._seen_events[next(iter(self._seen_events))]
        self._sync_pending = True

    @workflow.signal(name=RETRY_NOW_SIGNAL)
    def retry_now(self) -> None:
        """Support: run the failing step again now instead of at the end of its pause."""
        self._steps.retry_now()

    @workflow.query(name=ORDER_STATE_QUERY)
    def state(self) -> OrderWorkflowState:
        return OrderWorkflowState(
            order_id=self._order_id,
            payment_intent_id=self._payment_intent_id,
            snapshot=self._snapshot,
            closes_at=self._closes_at(),
            operations=self._operations,
            events_seen=len(self._seen_events),
            stripe_syncs=self._syncs,
            attention=self._steps.attention,
        )

    @workflow.update(name=SHIP_UPDATE)
    async def ship(self, request: ShipRequest) -> OperationOutcome:
        return await self._operate(request, self._ship)

    @ship.validator
    def _validate_ship(self, request: ShipRequest) -> None:
        self._validate(request, check_ship)

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, request: CancelRequest) -> OperationOutcome:
        return await self._operate(request, self._cancel)

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        self._validate(request, check_cancel)

    @workflow.update(name=REFUND_UPDATE)
    async def refund(self, request: RefundRequest) -> OperationOutcome:
        return await self._operate(request, self._refund, fingerprint=request.fingerprint)

    @refund.validator
    def _validate_refund(self, request: RefundRequest) -> None:
        self._validate(request, check_refund, fingerprint=request.fingerprint)

    @workflow.update(name=REQUEST_RETURN_UPDATE)
    async def request_return(self, request: ReturnRequest) -> OperationOutcome:
        return await self._operate(request, self._request_return)

    @request_return.validator
    def _validate_request_return(self, request: ReturnRequest) -> None:
        self._validate(request, check_return)

    @workflow.update(name=RECEIVE_RETURN_UPDATE)
    async def receive_return(self, request: ReceiveReturnRequest) -> OperationOutcome:
        return await self._operate(request, self._receive_return)

    @receive_return.validator
    def _validate_receive_return(self, request: ReceiveReturnRequest) -> None:
        self._validate(request, check_receive_return)

    @workflow.update(name=CANCEL_RETURN_UPDATE)
    async def cancel_return(self, request: CancelReturnRequest) -> OperationOutcome:
        return await self._operate(request, self._cancel_return)

    @cancel_return.validator
    def _validate_cancel_return(self, request: CancelReturnRequest) -> None:
        self._validate(request, check_cancel_return)

    # --- the order's life ----------------------------------------------------------------------

    @workflow.run
    async def run(self, start: OrderWorkflowInput) -> OrderWorkflowState:
        if self._snapshot is None or self._return_window_days is None or self._dispute_window_days is None:
            loaded = await self._steps.local_activity(OrderActivities.load_order_start, self._order_id)
            self._set_snapshot(self._snapshot or loaded.snapshot)
            self._return_window_days = self._return_window_days or loaded.return_window_days
            self._dispute_window_days = self._dispute_window_days or loaded.dispute_window_days
        workflow.upsert_search_attributes([ORDER_ID.value_set(self._order_id)])
        self._publish_status()
        if start.confirm_placed and workflow.patched(ORDER_CONFIRMS_PATCH):
            await self._confirm_placed()
        while True:
            if self._sync_pending:
                await self._sync_with_stripe()
                continue
            if self._history_is_long():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and not self._lock.locked()
                )
                workflow.continue_as_new(self._carry_over())
            if self._may_close():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._may_close() and not self._sync_pending:
                    return self.state()
                continue
            await self._wait_for_news()

    async def _wait_for_news(self) -> None:
        """Until an event, a change of the order, a long history, or the time to close."""
        seen = self._changes
        closes_at = self._closes_at()
        timeout = None
        if closes_at is not None and not self._open_work():
            timeout = max(closes_at - workflow.now(), timedelta(seconds=1))
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._sync_pending or self._changes != seen or self._history_is_long(),
                timeout=timeout,
            )

    def _closes_at(self) -> datetime | None:
        """max(captured + dispute window, last shipment + return window), from the snapshot."""
        snapshot = self._snapshot
        if snapshot is None or self._return_window_days is None or self._dispute_window_days is None:
            return None
        paid_at = snapshot.captured_at or snapshot.placed_at
        closes_at = paid_at + timedelta(days=self._dispute_window_days)
        if snapshot.last_shipped_at is not None:
            closes_at = max(closes_at, snapshot.last_shipped_at + timedelta(days=self._return_window_days))
        return closes_at

    def _open_work(self) -> bool:
        return self._snapshot is None or self._snapshot.has_open_work

    def _may_close(self) -> bool:
        closes_at = self._closes_at()
        return closes_at is not None and workflow.now() >= closes_at and not self._open_work()

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._continue_as_new_after
        )

    def _carry_over(self) -> OrderWorkflowInput:
        return OrderWorkflowInput(
            order_id=self._order_id,
            payment_intent_id=self._payment_intent_id,
            snapshot=self._snapshot,
            return_window_days=self._return_window_days,
            dispute_window_days=self._dispute_window_days,
            continue_as_new_after=self._continue_as_new_after,
            carried=CarriedState(
                outcomes=list(self._outcomes.values()),
                seen_event_ids=list(self._seen_events),
                sync_pending=self._sync_pending,
            ),
        )

    async def _sync_with_stripe(self) -> None:
        async with self._lock:
            self._sync_pending = False
            self._syncs += 1
            result = await self._steps.activity(RefundActivities.sync_order_with_stripe, self._order_id)
            self._set_snapshot(result.snapshot)
            for email in result.emails:
                await self._email(email)

    # --- operations ----------------------------------------------------------------------------

    def _validate(
        self,
        request: R,
        check: Callable[[OrderSnapshot, R], object],
        *,
        fingerprint: str | None = None,
    ) -> None:
        """Refuse before the request enters the history; a known request ID is let through."""
        known = self._outcomes.get(request.request_id)
        if known is not None:
            self._refuse_reused(known, fingerprint)
            return
        if self._snapshot is not None:  # not loaded yet: the handler checks
            _checked(check, self._snapshot, request)

    @staticmethod
    def _refuse_reused(known: OperationOutcome, fingerprint: str | None) -> None:
        if known.fingerprint != fingerprint:
            raise ApplicationError(
                "This Idempotency-Key was used for another request",
                type="idempotency_key_reused",
                non_retryable=True,
            )

    async def _operate(
        self,
        request: R,
        handler: Callable[[R], Awaitable[OperationOutcome]],
        *,
        fingerprint: str | None = None,
    ) -> OperationOutcome:
        """One operation at a time; the same request ID answers what it answered the first time."""
        async with self._lock:
            await workflow.wait_condition(lambda: self._snapshot is not None)
            known = self._outcomes.get(request.request_id)
            if known is not None:
                self._refuse_reused(known, fingerprint)
                return known
            try:
                outcome = await handler(request)
            except (ActivityError, ApplicationError) as error:
                refusal = business_refusal(error)
                if refusal is None:
                    raise
                raise _refused(refusal) from None
            self._operations += 1
            self._outcomes[request.request_id] = outcome
            while len(self._outcomes) > REMEMBERED_REQUESTS:
                del self._outcomes[next(iter(self._outcomes))]
            return outcome

    @property
    def _order(self) -> OrderSnapshot:
        assert self._snapshot is not None
        return self._snapshot

    async def _ship(self, request: ShipRequest) -> OperationOutcome:
        _checked(check_ship, self._order, request)
        applied = self._applied(await self._steps.local_activity(OrderActivities.ship_order, request))
        await self._email(
            EmailRequest(order_id=self._order_id, kind=EmailKind.SHIPMENT, subject_id=applied.fulfillment_id)
        )
        return OperationOutcome(request_id=request.request_id, fulfillment_id=applied.fulfillment_id)

    async def _cancel(self, request: CancelRequest) -> OperationOutcome:
        """Money first (void, or refund what was captured), then the order and its stock."""
        if not _checked(check_cancel, self._order, request):
            return OperationOutcome(request_id=request.request_id)  # canceled already: the same answer
        # Re-read at Stripe: the checkout's own capture may be racing this cancellation.
        payment = await self._steps.activity(
            PaymentActivities.cancel_payment_intent,
            CancelPaymentInput(payment_intent_id=self._payment_intent_id, void_authorization=True),
        )
        refund_id = None
        if payment.captured:
            # Captured (perhaps just now): make sure the capture is recorded, then refund it all.
            await self._steps.activity(PaymentActivities.capture_order_payment, self._order_id)
            refund_id, refusal = await self._refund_money(
                RefundRequest(
                    order_id=self._order_id,
                    request_id=f"cancel:{request.request_id}",
                    fingerprint="cancel",
                    actor=request.actor,
                    reason=RefundReason.ORDER_CANCELED,
                    source=RefundSource.CANCEL,
                ),
                nothing_left_is_fine=True,
            )
            if refusal is not None:
                raise refusal
        applied = self._applied(
            await self._steps.local_activity(
                OrderActivities.cancel_order, CancelOrderStep(request=request, voided=payment.canceled)
            )
        )
        await self._email(EmailRequest(order_id=applied.snapshot.order_id, kind=EmailKind.CANCELLATION))
        return OperationOutcome(request_id=request.request_id, refund_id=refund_id)

    async def _refund(self, request: RefundRequest) -> OperationOutcome:
        _checked(check_refund, self._order, request)
        refund_id, refusal = await self._refund_money(request)
        if refusal is not None:
            raise refusal
        await self._email(EmailRequest(order_id=self._order_id, kind=EmailKind.REFUND, subject_id=refund_id))
        return OperationOutcome(
            request_id=request.request_id, fingerprint=request.fingerprint, refund_id=refund_id
        )

    async def _refund_money(
        self, request: RefundRequest, *, nothing_left_is_fine: bool = False
    ) -> tuple[str | None, ApplicationError | None]:
        """Reserve (in the database, under the order's lock), ask Stripe, record its answer.

        Returns the refund's ID and, when Stripe refused it, the refusal (the refund is then
        `failed` and its reservation released).
        """
        try:
            reserved = self._applied(
                await self._steps.local_activity(OrderActivities.reserve_refund, request)
            )
        except (ActivityError, ApplicationError) as error:
            refusal = business_refusal(error)
            if nothing_left_is_fine and refusal is not None and refusal.type == "refund_exceeds_refundable":
                return None, None
            raise
        assert reserved.refund_id is not None
        outcome = await self._steps.activity(
            RefundActivities.create_stripe_refund,
            RefundRef(order_id=self._order_id, refund_id=reserved.refund_id),
        )
        self._applied(await self._steps.local_activity(OrderActivities.record_refund, outcome))
        if outcome.refusal_code is not None:
            return reserved.refund_id, ApplicationError(
                outcome.refusal_message or "Stripe refused the refund",
                type=outcome.refusal_code,
                non_retryable=True,
            )
        return reserved.refund_id, None

    async def _request_return(self, request: ReturnRequest) -> OperationOutcome:
        _checked(check_return, self._order, request)
        applied = self._applied(await self._steps.local_activity(OrderActivities.request_return, request))
        return OperationOutcome(request_id=request.request_id, return_id=applied.return_id)

    async def _receive_return(self, request: ReceiveReturnRequest) -> OperationOutcome:
        """Receive (and restock), then refund the received units with their tax share unless told not to."""
        _checked(check_receive_return, self._order, request)
        applied = self._applied(await self._steps.local_activity(OrderActivities.receive_return, request))
        refund_id = applied.refund_id
        to_refund = return_refund_items(self._order, applied.received) if request.refund else {}
        if to_refund and refund_id is None:
            try:
                refund_id, refusal = await self._refund_money(
                    RefundRequest(
                        order_id=self._order_id,
                        request_id=f"return:{request.return_id}",
                        fingerprint=f"return:{request.return_id}",
                        actor=request.actor,
                        items=[
                            ItemQuantity(item_id=item, quantity=units)
                            for item, units in sorted(to_refund.items())
                        ],
                        reason=RefundReason.RETURN_RECEIVED,
                        source=RefundSource.RETURN,
                        return_id=request.return_id,
                    )
                )
            except (ActivityError, ApplicationError) as error:
                if business_refusal(error) is None:
                    raise
                # The return is received either way; a refund that cannot be made is not made here.
                workflow.logger.warning("return %s received without a refund: %s", request.return_id, error)
                refusal = None
            if refund_id is not None and refusal is None:
                await self._email(
                    EmailRequest(order_id=self._order_id, kind=EmailKind.REFUND, subject_id=refund_id)
                )
        return OperationOutcome(
            request_id=request.request_id, return_id=request.return_id, refund_id=refund_id
        )

    async def _cancel_return(self, request: CancelReturnRequest) -> OperationOutcome:
        _checked(check_cancel_return, self._order, request)
        applied = self._applied(await self._steps.local_activity(OrderActivities.cancel_return, request))
        return OperationOutcome(request_id=request.request_id, return_id=applied.return_id)

    # --- small helpers -------------------------------------------------------------------------

    def _applied(self, applied: Applied) -> Applied:
        self._set_snapshot(applied.snapshot)
        return applied

    def _set_snapshot(self, snapshot: OrderSnapshot) -> None:
        self._snapshot = snapshot
        self._changes += 1
        self._publish_status()

    def _publish_status(self) -> None:
        if self._snapshot is not None and self._snapshot.status != self._published_status:
            self._published_status = self._snapshot.status
            workflow.upsert_search_attributes([ORDER_STATUS.value_set(self._snapshot.status)])

    async def _confirm_placed(self) -> None:
        """The checkout's last steps, here local activities of this run's first task: the customer's
        confirmation and the analytics event, each written once under its outbox key and tried at
        once (a provider that is down leaves it to the delivery Schedule). The email under the lock,
        so an operation that arrived as fast sends its own email after the confirmation; analytics
        beside it, holding up no operation."""
        analytics = asyncio.create_task(
            self._best_effort(NotificationActivities.track_order_placed, "analytics event", ANALYTICS_RETRY)
        )
        async with self._lock:
            await self._best_effort(
                NotificationActivities.send_order_confirmation, "confirmation email", EMAIL_RETRY
            )
        await analytics

    async def _best_effort(
        self, activity: Callable[[NotificationActivities, str], Awaitable[str]], what: str, retry: RetryPolicy
    ) -> None:
        try:
            await workflow.execute_local_activity_method(
                activity, self._order_id, start_to_close_timeout=SIDE_EFFECT_TIMEOUT, retry_policy=retry
            )
        except (ActivityError, ApplicationError):
            workflow.logger.warning("%s for %s could not be sent", what, self._order_id)

    async def _email(self, request: EmailRequest) -> None:
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_order_email,
                request,
                start_to_close_timeout=SIDE_EFFECT_TIMEOUT,
                retry_policy=EMAIL_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("%s email for %s could not be sent", request.kind, request.order_id)
