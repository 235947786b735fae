"""Logging for the API and the worker: one format (LOG_FORMAT, JSON lines by default outside dev),
and the IDs a line concerns (`payment_intent_id`, `order_id`, `cart_id`) on every such line.

Where the IDs come from: the API binds them per request (`bind_log_context`: path parameters,
and what a route learns, such as a cart's PaymentIntent); in the worker they come from the
activity's or workflow's info (every workflow ID is, or starts with, the PaymentIntent ID) and
from a call's own `extra`. Never log personal data (emails, addresses) or secrets here: every
`extra` field is written out.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow

from core.settings import Settings
from domain.ids import payment_intent_of_workflow

CONTEXT_FIELDS = ("payment_intent_id", "order_id", "cart_id")
# Longer values are not IDs of ours (path parameters come from the caller).
_MAX_ID_LENGTH = 100

# The IDs of the current request (or task). A mutable mapping, so what a route binds late is seen
# by the request's last line, which its middleware writes.
_context: ContextVar[dict[str, str] | None] = ContextVar("gracestowel_log_context", default=None)


def bind_log_context(**ids: str | None) -> None:
    """Put these IDs on every later log line of the current request or task."""
    current = _context.get()
    if current is None:
        current = {}
        _context.set(current)
    current.update({name: value[:_MAX_ID_LENGTH] for name, value in ids.items() if value})


@contextmanager
def log_scope() -> Iterator[Mapping[str, str]]:
    """A fresh set of IDs for one request: nothing bound by an earlier one leaks into it."""
    ids: dict[str, str] = {}
    token = _context.set(ids)
    try:
        yield ids
    finally:
        _context.reset(token)


class _ContextIds(logging.Filter):
    """Adds the IDs to a record: its own `extra` first, then the request's, then the Temporal info."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = dict(_context.get() or {})
        workflow_id = _workflow_id_of(record)
        payment_intent_id = payment_intent_of_workflow(workflow_id) if workflow_id else None
        if payment_intent_id:
            ids.setdefault("payment_intent_id", payment_intent_id)
        for name in CONTEXT_FIELDS:
            if name in ids and getattr(record, name, None) is None:
                setattr(record, name, ids[name])
        return True


def _workflow_id_of(record: logging.LogRecord) -> str | None:
    """The workflow a record is about: from workflow.logger / activity.logger's extra, or the
    activity running this code (plain loggers inside an activity)."""
    for details in (getattr(record, "temporal_workflow", None), getattr(record, "temporal_activity", None)):
        if isinstance(details, Mapping) and isinstance(details.get("workflow_id"), str):
            return str(details["workflow_id"])
    if activity.in_activity():
        return activity.info().workflow_id
    return None


class _TextFormatter(logging.Formatter):
    """For a person at a terminal (`make dev`): the usual line, then the IDs it concerns."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name))
        return f"{line} [{ids}]" if ids else line


def json_formatter(service: str) -> logging.Formatter:
    """One JSON object per line: time, level, logger, message, service, the IDs and every extra."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": service},
        timestamp="time",
        # uvicorn's copy of the message with terminal colour codes
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


class _StandardOutput(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stdout as it is when the line is written (pytest swaps it per test)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure_logging(settings: Settings, service: str) -> None:
    """Send every logger (ours, uvicorn's, the Temporal SDK's) through one handler on stdout.

    Idempotent: a second call replaces the handler the first one installed, and handlers that
    others put on the root logger (pytest's) are left alone. uvicorn's access log is switched
    off: the API writes its own line per request (route template, no query string, the IDs).
    """
    handler = _StandardOutput()
    handler.setFormatter(json_formatter(service) if settings.log_format == "json" else _TextFormatter())
    handler.addFilter(_ContextIds())
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _StandardOutput)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # Every HTTP call of the Stripe SDK (and of httpx under it) at INFO: three lines per health
    # probe. Their warnings and errors still come through, and everything at LOG_LEVEL=DEBUG.
    for chatty in ("stripe", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(
            logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
        )
    # In JSON the SDK's workflow/activity details are fields already; in text, keep them in the message.
    workflow.logger.workflow_info_on_message = settings.log_format == "text"
    activity.logger.activity_info_on_message = settings.log_format == "text"
