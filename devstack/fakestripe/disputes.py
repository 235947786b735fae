"""Disputes (chargebacks), which localstripe does not have, with Stripe's Dispute object
(https://docs.stripe.com/api/disputes/object): `du_...`, amount, currency, charge,
payment_intent, reason, status, balance_transactions, is_charge_refundable, evidence,
evidence_details, metadata, created.

Stripe's API: `GET /v1/disputes/{id}`, `GET /v1/disputes?payment_intent=|charge=` (newest
first), `POST /v1/disputes/{id}` (`evidence`, `metadata`, `submit` default true: submitted
evidence makes it `under_review`; sends `charge.dispute.updated` with `previous_attributes`),
`POST /v1/disputes/{id}/close` (accepting it: `lost`, `charge.dispute.closed`).

A cardholder's bank opens disputes, so the fake has test controls for that side:
`POST /_test/disputes` `{payment_intent, amount?, reason?}` opens one on the PaymentIntent's
captured charge (`needs_response`, the amount withdrawn by a balance transaction, the charge
`disputed: true`; `charge.dispute.created` then `charge.dispute.funds_withdrawn`);
`POST /_test/disputes/{id}/resolve` `{outcome: won|lost}` closes it as the bank decides
(`charge.dispute.closed`, and on `won` the funds given back: `charge.dispute.funds_reinstated`).
While a charge's dispute is open or lost, refunds of it are refused (`charge_disputed`). No
dispute fee is charged (the balance transactions' `fee` is 0).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from localstripe import resources

from devstack.fakestripe import objects
from devstack.fakestripe.objects import stripe_error

REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
_UNDER_REVIEW = {"needs_response": "under_review", "warning_needs_response": "warning_under_review"}
EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
EVIDENCE_DUE_SECONDS = 7 * 24 * 3600


class Dispute(resources.StripeObject):  # type: ignore[misc]  # localstripe is untyped
    object = "dispute"
    _id_prefix = "du_"

    def __init__(self, charge: Any, amount: int, reason: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = reason
        self.status = "needs_response"
        self.is_charge_refundable = False
        self.metadata: dict[str, str] = {}
        self.evidence: dict[str, str | None] = dict.fromkeys(EVIDENCE_FIELDS)
        self.evidence_details = {
            "due_by": self.created + EVIDENCE_DUE_SECONDS,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self._balance_transaction_ids: list[str] = []

    @property
    def balance_transactions(self) -> list[dict[str, Any]]:
        return [
            resources.BalanceTransaction._api_retrieve(txn_id)._export()
            for txn_id in self._balance_transaction_ids
        ]

    def _move_funds(self, amount: int, reporting_category: str, description: str) -> None:
        self._balance_transaction_ids.append(
            objects.balance_transaction(
                amount=amount,
                currency=self.currency,
                type="adjustment",
                reporting_category=reporting_category,
                source=self.id,
                description=f"{description} for {self.charge}",
            )
        )

    def _close(self, status: str) -> None:
        """Close it `won` (the funds given back) or `lost`."""
        if self.status not in OPEN:
            raise stripe_error(400, f"Dispute {self.id} is already closed (status {self.status}).")
        if status == "won":
            self._move_funds(self.amount, "dispute_reversal", "Chargeback reversal")
        self.status = status
        objects.emit("charge.dispute.closed", self)
        if status == "won":
            objects.emit("charge.dispute.funds_reinstated", self)

    @classmethod
    def _api_create(cls, **data: Any) -> Any:
        raise stripe_error(405, "Disputes are opened by the cardholder's bank: use POST /_test/disputes.")

    @classmethod
    def _api_delete(cls, id: str) -> Any:
        raise stripe_error(405, "Disputes cannot be deleted.")

    @classmethod
    def _api_update(
        cls, id: str, evidence: Any = None, metadata: Any = None, submit: Any = True, **unknown: Any
    ) -> Any:
        objects.refuse_unknown(unknown)
        dispute = cls._api_retrieve(id)
        submit = resources.try_convert_to_bool(submit)
        if not isinstance(submit, bool):
            raise stripe_error(400, "Invalid boolean", param="submit")
        previous: dict[str, Any] = {}
        if evidence is not None:
            dispute._stage_evidence(evidence, previous)
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise stripe_error(400, "Invalid object", param="metadata")
            previous["metadata"] = dict(dispute.metadata)
            for key, value in metadata.items():
                if value == "":  # Stripe: an empty value removes the key
                    dispute.metadata.pop(key, None)
                else:
                    dispute.metadata[key] = value
        if submit and dispute.status in _UNDER_REVIEW and any(dispute.evidence.values()):
            previous["status"] = dispute.status
            previous["evidence_details"] = dict(dispute.evidence_details)
            dispute.status = _UNDER_REVIEW[dispute.status]
            dispute.evidence_details["has_evidence"] = True
            dispute.evidence_details["submission_count"] += 1
        objects.emit("charge.dispute.updated", dispute, previous_attributes=previous)
        return dispute

    def _stage_evidence(self, evidence: Any, previous: dict[str, Any]) -> None:
        if not isinstance(evidence, dict):
            raise stripe_error(400, "Invalid object", param="evidence")
        for field, value in evidence.items():
            if field not in EVIDENCE_FIELDS:
                raise stripe_error(
                    400, f"Received unknown parameter: evidence[{field}]", param=f"evidence[{field}]"
                )
            if not isinstance(value, str):
                raise stripe_error(400, "Invalid string", param=f"evidence[{field}]")
        if self.status not in _UNDER_REVIEW:
            raise stripe_error(
                400,
                f"Dispute {self.id} is {self.status}: its evidence can no longer be changed.",
                param="evidence",
            )
        previous["evidence"] = dict(self.evidence)
        self.evidence.update(evidence)

    _api_list_all = objects.list_of_payment("dispute")

    @classmethod
    def _api_close(cls, id: str, **unknown: Any) -> Any:
        objects.refuse_unknown(unknown)
        dispute = cls._api_retrieve(id)
        dispute._close("lost")
        return dispute


def blocks_refunds(charge: Any) -> bool:
    """A charge whose dispute is open or was lost cannot be refunded (the bank took the money)."""
    dispute = resources.store.get("dispute:" + str(getattr(charge, "_dispute", "")))
    return dispute is not None and dispute.status != "won" and not dispute.is_charge_refundable


async def open_dispute(request: web.Request) -> web.Response:
    """Test control: `POST /_test/disputes` `{payment_intent, amount?, reason?}`."""
    params = await objects.request_params(request)
    payment_intent_id = params.get("payment_intent")
    if not isinstance(payment_intent_id, str):
        raise stripe_error(400, "payment_intent is required", param="payment_intent")
    charge = resources.PaymentIntent._api_retrieve(payment_intent_id).latest_charge
    if charge is None or charge.status != "succeeded" or not charge.captured:
        raise stripe_error(400, f"PaymentIntent {payment_intent_id} has no captured charge to dispute.")
    if getattr(charge, "_dispute", None) is not None:
        raise stripe_error(400, f"Charge {charge.id} already has dispute {charge._dispute}.")
    # What remains of the money taken: amount_refunded also counts the uncaptured rest of a
    # partial capture, released at capture.
    disputable = charge.amount - charge.amount_refunded
    amount = resources.try_convert_to_int(params.get("amount", disputable))
    if type(amount) is not int or not 0 < amount <= disputable:
        raise stripe_error(400, f"amount must be between 1 and {disputable}", param="amount")
    reason = params.get("reason", "fraudulent")
    if reason not in REASONS:
        raise stripe_error(400, f"reason must be one of {', '.join(REASONS)}", param="reason")
    dispute = Dispute(charge, amount, reason)
    charge.disputed = True
    charge._dispute = dispute.id
    dispute._move_funds(-amount, "dispute", "Chargeback withdrawal")
    objects.emit("charge.dispute.created", dispute)
    objects.emit("charge.dispute.funds_withdrawn", dispute)
    return web.json_response(dispute._export())


async def resolve_dispute(request: web.Request) -> web.Response:
    """Test control: `POST /_test/disputes/{id}/resolve` `{outcome: won|lost}`."""
    dispute = Dispute._api_retrieve(request.match_info["id"])
    outcome = (await objects.request_params(request)).get("outcome")
    if outcome not in ("won", "lost"):
        raise stripe_error(400, "outcome must be won or lost", param="outcome")
    dispute._close(outcome)
    return web.json_response(dispute._export())


def add_routes(app: web.Application) -> None:
    from localstripe.server import api_extra, api_list_all, api_retrieve, api_update

    app.router.add_get("/v1/disputes", api_list_all(Dispute, "/v1/disputes"))
    app.router.add_get("/v1/disputes/{id}", api_retrieve(Dispute, "/v1/disputes/{id}"))
    app.router.add_post("/v1/disputes/{id}", api_update(Dispute, "/v1/disputes/{id}"))
    app.router.add_post("/v1/disputes/{id}/close", api_extra(Dispute._api_close, "/v1/disputes/{id}/close"))
    app.router.add_post("/_test/disputes", open_dispute)
    app.router.add_post("/_test/disputes/{id}/resolve", resolve_dispute)
