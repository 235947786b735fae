"""Unguessable, prefixed, time-sortable IDs (`cart_01J...`): a ULID has 80 random bits."""

from __future__ import annotations

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def payment_intent_of_workflow(workflow_id: str) -> str | None:
    """The PaymentIntent a workflow belongs to: every workflow of a payment has an ID that is,
    or starts with, the PaymentIntent's (`pi_…`, `pi_…:fulfillment`); others (the reconciler) none."""
    payment_intent_id = workflow_id.split(":", 1)[0]
    return payment_intent_id if payment_intent_id.startswith("pi_") else None


def fulfillment_workflow_id(payment_intent_id: str) -> str:
    return f"{payment_intent_id}:fulfillment"


def capture_idempotency_key(payment_intent_id: str) -> str:
    return f"{payment_intent_id}:capture"


def refund_idempotency_key(payment_intent_id: str, reason: str) -> str:
    return f"{payment_intent_id}:refund:{reason}"


def order_workflow_id(payment_intent_id: str) -> str:
    return f"{payment_intent_id}:order"


def order_refund_idempotency_key(order_id: str, request_id: str) -> str:
    """The Stripe Refund's key: the order and the operation's request ID (the Idempotency-Key)."""
    return f"{order_id}:refund:{request_id}"
