"""The emails the shop sends, rendered from Jinja2 templates (HTML with a plain-text part).

Templates live in `templates/` next to this module (package data): `<kind>.html` extends
`base.html` and is autoescaped; `<kind>.txt` is the plain-text part. Money is formatted per
currency with `domain.money.format_money` (the `money` filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from core.email import EmailMessage
from domain.money import format_money
from domain.orders.workflow import EmailKind

SUBJECTS = {
    EmailKind.CONFIRMATION: "Your Grace's Towel order {order_id}",
    EmailKind.SHIPMENT: "Your Grace's Towel order {order_id} has shipped",
    EmailKind.REFUND: "A refund for your Grace's Towel order {order_id}",
    EmailKind.CANCELLATION: "Your Grace's Towel order {order_id} has been canceled",
    EmailKind.DISPUTE: "Dispute opened on order {order_id}",
}


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("activities.emails", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = lambda amount, currency: format_money(int(amount), str(currency))
    return environment


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def render(kind: EmailKind, *, order_id: str, **context: Any) -> Rendered:
    environment = _environment()
    values = {"order_id": order_id, **context}
    return Rendered(
        subject=SUBJECTS[kind].format(order_id=order_id),
        html=environment.get_template(f"{kind}.html").render(values),
        text=environment.get_template(f"{kind}.txt").render(values),
    )


def email_to(recipient: str, rendered: Rendered) -> EmailMessage:
    return EmailMessage(to=recipient, subject=rendered.subject, html=rendered.html, text=rendered.text)
