"""Stripe webhook: verify over the raw body, then hand the event to the checkout workflow.

200 only once Temporal has the event; 5xx when it cannot take it, so Stripe delivers it again.
"""

from __future__ import annotations

import logging
from typing import Annotated

import stripe
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deps import SettingsDep, get_temporal
from api.errors import APIError, temporal_unavailable
from api.metrics import STRIPE_WEBHOOK_EVENTS
from core.logs import bind_log_context
from core.settings import Settings
from domain.checkout import PaymentEvent
from services.dispatch import signal_payment_event

logger = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])


class WebhookAck(BaseModel):
    received: bool = True
    # "checkout": delivered to the checkout workflow; "closed": its checkout already finished;
    # "ignored": an event type or object that is not about a payment we track.
    routed: str


def payment_intent_id_of(event: stripe.Event) -> str | None:
    """The PaymentIntent a `payment_intent.*` event is about; None for every other event."""
    if not event.type.startswith("payment_intent."):
        return None
    payment_intent_id = event.to_dict()["data"]["object"].get("id")
    return str(payment_intent_id) if payment_intent_id else None


@router.post("/hooks/stripe", response_model=WebhookAck, responses={400: {}, 503: {}})
async def stripe_webhook(
    request: Request,
    settings: SettingsDep,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookAck:
    try:
        event = _verified(await request.body(), stripe_signature, settings)
    except APIError:
        STRIPE_WEBHOOK_EVENTS.labels("unverified", "rejected").inc()
        raise
    try:
        ack = await _route(request, settings, event)
    except APIError:
        STRIPE_WEBHOOK_EVENTS.labels(event.type, "unavailable").inc()
        raise
    STRIPE_WEBHOOK_EVENTS.labels(event.type, ack.routed).inc()
    return ack


def _verified(payload: bytes, stripe_signature: str | None, settings: Settings) -> stripe.Event:
    """The event, if Stripe signed it with our endpoint's secret (over the raw body)."""
    if not stripe_signature:
        raise APIError(400, "invalid_signature", "Missing Stripe-Signature header")
    try:
        event: stripe.Event = stripe.Webhook.construct_event(
            payload, stripe_signature, settings.stripe_webhook_secret.get_secret_value()
        )
    except stripe.SignatureVerificationError as bad:
        raise APIError(400, "invalid_signature", "The Stripe signature does not verify") from bad
    except ValueError as bad:
        raise APIError(400, "invalid_payload", "The body is not a Stripe event") from bad
    return event


async def _route(request: Request, settings: Settings, event: stripe.Event) -> WebhookAck:
    payment_intent_id = payment_intent_id_of(event)
    if payment_intent_id is None:
        logger.info("stripe event %s (%s) acknowledged, nothing to route", event.id, event.type)
        return WebhookAck(routed="ignored")
    bind_log_context(payment_intent_id=payment_intent_id)
    # Only now, after the signature: a forged request never learns whether Temporal is up.
    temporal = await get_temporal(request)
    try:
        await signal_payment_event(
            temporal, settings, payment_intent_id, PaymentEvent(event_id=event.id, type=event.type)
        )
    except WorkflowAlreadyStartedError:
        # Our own capture makes Stripe send `succeeded` after the checkout finished.
        logger.info("stripe event %s for finished checkout %s acknowledged", event.id, payment_intent_id)
        return WebhookAck(routed="closed")
    except RPCError as exc:
        logger.warning("stripe event %s could not be handed to Temporal: %s", event.id, exc)
        raise temporal_unavailable("Could not hand the event over; deliver it again") from exc
    return WebhookAck(routed="checkout")
