"""Stripe webhook: verify over the raw body, then hand the event to the workflow it is about.

`payment_intent.*` events go to the checkout (workflow ID = the PaymentIntent ID); refund and
dispute events (`charge.refunded`, `refund.*`, `charge.dispute.*`) to the OrderWorkflow of the
order paid by the charge's PaymentIntent (`{pi}:order`, started again if it had closed). Every
event is only a hint: the workflow re-reads Stripe. 200 only once Temporal has the event; 5xx
when it cannot take it, so Stripe delivers it again.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import stripe
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel
from sqlalchemy import select
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, get_temporal
from api.errors import (
    RETRY_AFTER_HEADER,
    APIError,
    error_response,
    error_responses,
    refusal,
    temporal_unavailable,
)
from api.metrics import STRIPE_WEBHOOK_EVENTS
from core import stripe_gateway
from core.logs import bind_log_context
from core.settings import Settings
from domain.checkout import PaymentEvent
from domain.orders.workflow import OrderWorkflowInput, StripeEventHint
from models import Order
from services import payments
from services.dispatch import signal_order_event, signal_payment_event

logger = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])

# The events about an order's charge (README: the Stripe endpoint's event list).
ORDER_EVENT_TYPES = ("charge.refunded", "refund.created", "refund.updated", "refund.failed")
ORDER_EVENT_PREFIX = "charge.dispute."


class WebhookAck(BaseModel):
    received: bool = True
    # "checkout": delivered to the checkout workflow; "closed": its checkout already finished;
    # "order": delivered to the order's workflow; "ignored": an event type or object that is not
    # about a payment or order we track.
    routed: str


def payment_intent_id_of(event: stripe.Event) -> str | None:
    """The PaymentIntent a `payment_intent.*` event is about; None for every other event."""
    if not event.type.startswith("payment_intent."):
        return None
    payment_intent_id = event.to_dict()["data"]["object"].get("id")
    return str(payment_intent_id) if payment_intent_id else None


def is_order_event(event: stripe.Event) -> bool:
    return event.type in ORDER_EVENT_TYPES or event.type.startswith(ORDER_EVENT_PREFIX)


def _id_of(value: Any) -> str | None:
    """An ID field that Stripe may also send expanded (an object with its `id`)."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


async def charged_payment_intent_of(event: stripe.Event) -> str | None:
    """The PaymentIntent behind a refund or dispute event's object (a Charge, Refund or Dispute).

    A dispute without `payment_intent` names only its charge: that charge is retrieved.
    """
    data: dict[str, Any] = event.to_dict()["data"]["object"]
    payment_intent_id = _id_of(data.get("payment_intent"))
    charge_id = _id_of(data.get("charge"))
    if payment_intent_id is None and charge_id is not None:
        payment_intent_id = await stripe_gateway.payment_intent_of_charge(charge_id)
    return payment_intent_id


@router.post(
    "/hooks/stripe",
    response_model=WebhookAck,
    responses={
        **error_responses(
            {
                400: refusal(
                    "The signature does not verify, or the body is not a Stripe event",
                    "invalid_signature",
                    "invalid_payload",
                ),
                413: refusal("The body is larger than the limit", "payload_too_large"),
            }
        ),
        503: error_response(
            refusal(
                "The event could not be handed to Temporal: Stripe delivers it again", "temporal_unavailable"
            ),
            headers=RETRY_AFTER_HEADER,
        ),
    },
)
async def stripe_webhook(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookAck:
    try:
        event = _verified(await request.body(), stripe_signature, settings)
    except APIError:
        STRIPE_WEBHOOK_EVENTS.labels("unverified", "rejected").inc()
        raise
    try:
        # Only after the signature: a forged request never learns whether Temporal or Stripe is up.
        if is_order_event(event):
            ack = await _to_order(event, request, settings, session)
        else:
            ack = await _to_checkout(request, settings, session, event)
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
        event = stripe_gateway.verify_webhook(
            payload, stripe_signature, settings.stripe_webhook_secret.get_secret_value()
        )
    except stripe.SignatureVerificationError as bad:
        raise APIError(400, "invalid_signature", "The Stripe signature does not verify") from bad
    except ValueError as bad:
        raise APIError(400, "invalid_payload", "The body is not a Stripe event") from bad
    return event


async def _to_checkout(
    request: Request, settings: Settings, session: SessionDep, event: stripe.Event
) -> WebhookAck:
    payment_intent_id = payment_intent_id_of(event)
    if payment_intent_id is None:
        logger.info("stripe event %s (%s) acknowledged, nothing to route", event.id, event.type)
        return WebhookAck(routed="ignored")
    bind_log_context(payment_intent_id=payment_intent_id)
    ended = await payments.checkout_has_ended(session, payment_intent_id)
    await session.close()  # no connection held over the call to Temporal
    if ended:  # no round trip to Temporal for a checkout whose workflow has decided
        logger.info("stripe event %s for finished checkout %s acknowledged", event.id, payment_intent_id)
        return WebhookAck(routed="closed")
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


async def _to_order(
    event: stripe.Event, request: Request, settings: Settings, session: SessionDep
) -> WebhookAck:
    try:
        payment_intent_id = await charged_payment_intent_of(event)
    except stripe.StripeError as exc:
        raise APIError(
            503, "stripe_unavailable", "Could not look up the disputed charge; deliver it again"
        ) from exc
    order_id = None
    if payment_intent_id is not None:
        order_id = await session.scalar(select(Order.id).where(Order.payment_intent_id == payment_intent_id))
    await session.close()
    if payment_intent_id is None or order_id is None:
        logger.info("stripe event %s (%s) is about no order of ours: acknowledged", event.id, event.type)
        return WebhookAck(routed="ignored")
    bind_log_context(payment_intent_id=payment_intent_id, order_id=order_id)
    start = OrderWorkflowInput(
        order_id=order_id,
        payment_intent_id=payment_intent_id,
        return_window_days=settings.order_return_window_days,
        dispute_window_days=settings.order_dispute_window_days,
    )
    try:
        await signal_order_event(
            await get_temporal(request), settings, start, StripeEventHint(event_id=event.id, type=event.type)
        )
    except RPCError as exc:
        logger.warning("stripe event %s could not be handed to Temporal: %s", event.id, exc)
        raise temporal_unavailable("Could not hand the event over; deliver it again") from exc
    return WebhookAck(routed="order")
