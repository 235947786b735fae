"""Support's shapes: why a workflow needs attention, and the retry that brings it back."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from api.schemas.common import RequestModel
from domain.text import multi_line


class RetryIn(RequestModel):
    # Recorded with the key's name: the audit log (checkouts), the order's timeline (orders).
    reason: Annotated[str, multi_line(500)]


class RetryOut(BaseModel):
    workflow_id: str
    # The run that now carries on: a new one after a reset, the same one after a step retry.
    run_id: str
    action: str  # `reset` (the run had ended without completing) or `step_retried`
    status: str  # Temporal's execution status of that run
    temporal_ui_url: str


class RetryResponse(BaseModel):
    retry: RetryOut
