"""The Stripe reconciler: the safety net under webhooks and `complete`.

Lists recent PaymentIntents and nudges the checkout of every authorized one, so a payment whose
webhook was lost (and whose storefront never called `complete`) still becomes an order.
"""

from __future__ import annotations

import time

import stripe
from temporalio import activity
from temporalio.exceptions import WorkflowAlreadyStartedError

from core import stripe_gateway
from core.settings import Settings
from domain.checkout import PaymentEvent, ReconcileInput, ReconcileResult
from services.dispatch import signal_payment_event

PAGE_SIZE = 100
MAX_PAGES = 20  # 2,000 PaymentIntents a run at most: the schedule runs again soon


class ReconcilerActivities:
    def __init__(self, stripe_client: stripe.StripeClient, settings: Settings) -> None:
        self._stripe = stripe_client
        self._settings = settings

    @activity.defn
    async def nudge_authorized_checkouts(self, request: ReconcileInput) -> ReconcileResult:
        cutoff = int(time.time()) - request.lookback_seconds
        result = ReconcileResult()
        starting_after: str | None = None
        for _ in range(MAX_PAGES):
            page = await stripe_gateway.list_payment_intents(
                limit=PAGE_SIZE, starting_after=starting_after, client=self._stripe
            )
            for intent in page.data:
                result.examined += 1
                payment = stripe_gateway.snapshot(intent)
                if intent.created < cutoff or not payment.authorized or payment.cart_id is None:
                    continue
                # One hint per PaymentIntent and status: the checkout ignores repeats of it.
                event = PaymentEvent(event_id=f"reconciler:{payment.id}:{payment.status}", type="reconciler")
                try:
                    await signal_payment_event(activity.client(), self._settings, payment.id, event)
                    result.nudged += 1
                except WorkflowAlreadyStartedError:
                    result.already_finished += 1
            activity.heartbeat(result.examined)
            if not page.has_more or not page.data or page.data[-1].created < cutoff:
                break
            starting_after = page.data[-1].id
        return result
