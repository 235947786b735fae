"""Refunds as Stripe makes them: never more than what remains on the charge, with events.

localstripe (1.15) accepts any refund amount (999,999 of a 5,000 charge), refunds uncaptured
charges, knows no `reason`, sends no event and sets `payment_intent` only on refunds created by
PaymentIntent. Here, `POST /v1/refunds` (`charge` or `payment_intent`, `amount?`, `reason?`,
`metadata?`) is refused as Stripe refuses it, always 400 `invalid_request_error`:

* more than remains unrefunded: param `amount`, "Refund amount (€X) is greater than unrefunded
  amount on charge (€Y)", and no `code`, as Stripe answers (recorded by stripe-stateful-mock,
  whose tests compare it with live Stripe: test/refunds.ts "can't refund more than the amount
  on the charge"); `amount_too_large` is Stripe's code for an amount above its maximum;
* nothing left: code `charge_already_refunded`, "Charge ch_... has already been refunded.";
* an open or lost dispute: code `charge_disputed`, "Charge ch_... has been charged back; cannot
  issue a refund." (same source);
* not captured yet: "This uncaptured Charge was created by a PaymentIntent (pi_...). You must
  cancel the PaymentIntent to reverse the authorization instead of refunding the Charge
  directly." (Stripe's message, quoted in woocommerce-gateway-stripe issue #1081); a
  PaymentIntent without a successful charge: "This PaymentIntent (pi_...) does not have a
  successful charge to refund.".

Every refund sends `refund.created` and `charge.refunded` (data.object the full Refund and the
full Charge, with `amount_refunded` and `refunds`). The test control
`POST /_test/refunds/{id}/fail` `{failure_reason?}` makes a succeeded refund fail later, as a
card refund can: status `failed`, `failure_reason`, a `failure_balance_transaction` giving the
money back to the balance, no longer counted in the charge's `amount_refunded`, and
`refund.failed` + `refund.updated` (with `previous_attributes`). The charge also exposes
`amount_captured` and `disputed`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from localstripe import resources

from devstack.fakestripe import disputes
from devstack.fakestripe.objects import (
    balance_transaction,
    emit,
    list_of_payment,
    refuse_unknown,
    request_params,
    stripe_error,
)
from domain.money import format_money, from_stripe_amount

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
FAILURE_REASONS = (
    "lost_or_stolen_card",
    "expired_or_canceled_card",
    "charge_for_pending_refund_disputed",
    "insufficient_funds",
    "declined",
    "merchant_request",
    "unknown",
)
# Stripe's largest amount ($999,999.99 in minor units).
MAX_AMOUNT = 99_999_999
_NOT_COUNTED = ("failed", "canceled")


def patch_models() -> None:
    charge_class, refund_class = resources.Charge, resources.Refund
    localstripe_capture = charge_class._capture
    localstripe_refund_init = refund_class.__init__

    def amount_refunded(charge: Any) -> int:
        return sum(refund.amount for refund in charge.refunds._list if refund.status not in _NOT_COUNTED)

    def amount_captured(charge: Any) -> int:
        if not charge.captured or charge.status != "succeeded":
            return 0
        captured: int = getattr(charge, "_amount_captured", charge.amount)
        return captured

    def capture(charge: Any, amount: Any, on_success: Any = None) -> None:
        localstripe_capture(charge, amount, on_success)
        # localstripe refunds the uncaptured rest at once (as Stripe did): amount_refunded counts it.
        charge._amount_captured = charge.amount if amount is None else int(amount)

    def refund_init(refund: Any, *args: Any, **kwargs: Any) -> None:
        localstripe_refund_init(refund, *args, **kwargs)
        if refund.payment_intent is None:  # Stripe sets it on every refund of a PaymentIntent's charge
            refund.payment_intent = resources.Charge._api_retrieve(refund.charge).payment_intent

    charge_class.amount_refunded = property(amount_refunded)
    charge_class.amount_captured = property(amount_captured)
    charge_class.disputed = False
    charge_class._capture = capture
    refund_class.reason = None
    refund_class.failure_reason = None
    refund_class.failure_balance_transaction = None
    refund_class.__init__ = refund_init
    refund_class._api_create = classmethod(_create)
    refund_class._api_list_all = list_of_payment("refund")
    refund_class._api_update = classmethod(_update)


def _money(amount: int, currency: str) -> str:
    return format_money(from_stripe_amount(amount, currency), currency)


def _charge_to_refund(charge_id: Any, payment_intent_id: Any) -> Any:
    if (charge_id is None) == (payment_intent_id is None):
        raise stripe_error(
            400, "One of the following params should be provided for this request: payment_intent or charge."
        )
    if payment_intent_id is not None:
        intent = resources.PaymentIntent._api_retrieve(str(payment_intent_id))
        charge = intent.latest_charge
        if charge is None or charge.status != "succeeded" or intent.status == "canceled":
            raise stripe_error(
                400,
                f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
    else:
        charge = resources.Charge._api_retrieve(str(charge_id))
        if charge.status != "succeeded":
            raise stripe_error(400, f"Charge {charge.id} has failed and cannot be refunded.", param="charge")
    if not charge.captured:
        raise stripe_error(
            400,
            f"This uncaptured Charge was created by a PaymentIntent ({charge.payment_intent}). You"
            " must cancel the PaymentIntent to reverse the authorization instead of refunding the"
            " Charge directly.",
        )
    return charge


def _create(
    cls: Any,
    /,
    charge: Any = None,
    payment_intent: Any = None,
    amount: Any = None,
    reason: Any = None,
    metadata: Any = None,
    **unknown: Any,
) -> Any:
    refuse_unknown(unknown)
    if amount is not None:
        amount = resources.try_convert_to_int(amount)
        if type(amount) is not int or amount <= 0:
            raise stripe_error(
                400, "Invalid positive integer", code="parameter_invalid_integer", param="amount"
            )
        if amount > MAX_AMOUNT:
            raise stripe_error(
                400, "Amount must be no more than $999,999.99", code="amount_too_large", param="amount"
            )
    if reason is not None and reason not in REASONS:
        raise stripe_error(
            400,
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            param="reason",
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise stripe_error(400, "Invalid object", param="metadata")
    target = _charge_to_refund(charge, payment_intent)
    remaining = target.amount - target.amount_refunded
    if remaining <= 0:
        raise stripe_error(
            400, f"Charge {target.id} has already been refunded.", code="charge_already_refunded"
        )
    if disputes.blocks_refunds(target):
        raise stripe_error(
            400, f"Charge {target.id} has been charged back; cannot issue a refund.", code="charge_disputed"
        )
    if amount is not None and amount > remaining:
        raise stripe_error(
            400,
            f"Refund amount ({_money(amount, target.currency)}) is greater than unrefunded amount on"
            f" charge ({_money(remaining, target.currency)})",
            param="amount",
        )
    refund = cls(charge=target.id, amount=remaining if amount is None else amount, metadata=metadata)
    refund.reason = reason
    emit("refund.created", refund)
    emit("charge.refunded", target)
    return refund


def _update(cls: Any, /, id: str, metadata: Any = None, **unknown: Any) -> Any:
    """Stripe lets only a refund's metadata be changed."""
    refuse_unknown(unknown)
    refund = cls._api_retrieve(id)
    if metadata is not None:
        refund._update(metadata=metadata)
    return refund


async def fail_refund(request: web.Request) -> web.Response:
    """Test control: `POST /_test/refunds/{id}/fail` `{failure_reason?}` (default `unknown`)."""
    refund = resources.Refund._api_retrieve(request.match_info["id"])
    failure_reason = (await request_params(request)).get("failure_reason", "unknown")
    if failure_reason not in FAILURE_REASONS:
        raise stripe_error(
            400, f"failure_reason must be one of {', '.join(FAILURE_REASONS)}", param="failure_reason"
        )
    if refund.status != "succeeded":
        raise stripe_error(400, f"Refund {refund.id} is {refund.status}; only a succeeded refund can fail.")
    previous = {"status": refund.status, "failure_reason": None, "failure_balance_transaction": None}
    refund.status = "failed"
    refund.failure_reason = failure_reason
    refund.failure_balance_transaction = balance_transaction(
        amount=refund.amount,
        currency=refund.currency,
        type="refund_failure",
        reporting_category="refund_failure",
        source=refund.id,
        description="REFUND FAILURE",
    )
    emit("refund.failed", refund)
    emit("refund.updated", refund, previous_attributes=previous)
    return web.json_response(refund._export())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_test/refunds/{id}/fail", fail_refund)
