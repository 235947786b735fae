"""Needs attention: what a workflow whose step keeps failing publishes, and how support retries it.

Pure data and names, safe inside the workflow sandbox. The workflows declare these names and
services.dispatch sends by them: running workflows and recorded histories know them, never rename one.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

# Search attributes (registered with the others, see domain.checkout.SEARCH_ATTRIBUTES): the
# Temporal UI finds every workflow that waits for help with `NeedsAttention = true`.
NEEDS_ATTENTION = "NeedsAttention"
ATTENTION_REASON = "AttentionReason"
# Support's "retry the failing step now" (both CheckoutWorkflow and OrderWorkflow answer to it).
RETRY_NOW_SIGNAL = "retry_now"

# The ApplicationError type of a failure that is the operator's to fix, not the customer's: a
# rotated Stripe key, a sales channel without a stock location. Retryable: the checkout stays open.
CONFIGURATION_ERROR = "configuration_error"
# Why a closed run needs attention, by its Temporal execution status.
CLOSED_RUN_REASONS = {"FAILED": "run_failed", "TERMINATED": "run_terminated", "TIMED_OUT": "run_timed_out"}


class Attention(BaseModel):
    """A step that failed every attempt of its last round and waits for the next one (or a retry)."""

    step: str
    # CONFIGURATION_ERROR or "step_failing" (an activity), "workflow_task_failing" (the workflow's
    # own code), or one of CLOSED_RUN_REASONS.
    reason: str
    last_failure: str
    attempts: int
    since: datetime


class FlaggedWorkflow(BaseModel):
    """A checkout or order workflow that needs attention, as Temporal's visibility lists it."""

    workflow_id: str
    workflow_type: str
    run_id: str
    status: str  # Temporal's execution status: RUNNING (a step keeps failing), FAILED, TERMINATED, TIMED_OUT
    attention: Attention


class RetryOutcome(BaseModel):
    """What support's retry did: `reset` a closed run (a new run), or `step_retried` in the running one."""

    workflow_id: str
    run_id: str
    action: str
    status: str
