"""The fake Stripe of `make dev` and of the tests: localstripe (PyPI `localstripe` 1.15.x),
extended from outside (replaced methods, middlewares, extra routes; nothing in site-packages is
edited) to behave like Stripe where the order lifecycle depends on it.

    python -m devstack.fakestripe --port 8420 --state-file .dev/localstripe.pickle

Bound to 127.0.0.1 by default. With `--state-file` everything (localstripe's objects, disputes,
Idempotency-Keys) is loaded at start and saved after each write; without it, memory only.

What it adds to localstripe (each module's docstring has the details and the sources):

* `idempotency`: Idempotency-Key on POST /v1/...: the same key and parameters answer the first
  response again; other parameters or another endpoint: 400 `idempotency_error`; the key still
  in flight: 409 `idempotency_error` / `idempotency_key_in_use`; keys kept 24 h (in the state
  file too).
* `refunds`: never more than remains unrefunded on the charge (400, param `amount`);
  `charge_already_refunded`, `charge_disputed`, uncaptured and unpaid PaymentIntents refused as
  Stripe refuses them; `reason` and `metadata`; `refund.created` + `charge.refunded` on every
  refund; refunds listed by `payment_intent` or `charge` with their current status; the charge's
  `amount_captured`, `amount_refunded` (failed refunds excluded), `refunded`, `disputed`,
  `refunds`, `payment_intent`.
* `payments`: a declined PaymentIntent (`requires_payment_method`, `last_payment_error`) can be
  confirmed again with another card, through the SDK (`pay` again) or the fake Stripe.js at
  `/js.stripe.com/v3/`, whose `confirmCardPayment(clientSecret, {payment_method: {card}})` now
  confirms with the card typed in the card Element; confirm accepts `payment_method`,
  `payment_method_data` and, with the publishable key, `client_secret`.
* `disputes`: Stripe's Dispute object and API (`GET /v1/disputes/{id}`,
  `GET /v1/disputes?payment_intent=|charge=`, `POST /v1/disputes/{id}`,
  `POST /v1/disputes/{id}/close`) and its `charge.dispute.*` events.
* `objects`: events carry `request.idempotency_key`, update events `previous_attributes`; all
  are kept (`GET /v1/events`) and sent to the registered webhooks, signed as localstripe signs.

Test-only controls, all under `/_test/` (no API key needed, never confused with Stripe's API):

* `POST /_test/disputes` `{payment_intent, amount?, reason?}`: the bank opens a dispute
  (`needs_response`, funds withdrawn; `charge.dispute.created`, `charge.dispute.funds_withdrawn`).
* `POST /_test/disputes/{id}/resolve` `{outcome: won|lost}`: `charge.dispute.closed`, and on
  `won` `charge.dispute.funds_reinstated`.
* `POST /_test/refunds/{id}/fail` `{failure_reason?}`: a succeeded refund fails later (status
  `failed`, money back to the balance; `refund.failed`, `refund.updated`).
* `POST /_test/delays` `{path, seconds, method?, times?}`, `DELETE /_test/delays`: hold matching
  requests after they ran (a lost response; a key in flight).
* `POST /_test/keys` `{revoked: [sk_...], reject_all?}`, `DELETE /_test/keys`: secret keys that
  stop working (401 `api_key_expired`, as Stripe refuses a rotated key).

Still not like Stripe: no `payment_intent.amount_capturable_updated`, `.canceled` or `.created`
events (only localstripe's `succeeded` and `payment_failed`); `latest_charge` comes back expanded
and `amount_received`/`amount_capturable` are missing; refunds succeed at once (never `pending`)
and cannot be canceled; no dispute fees, inquiries (`warning_*`) or evidence due dates that pass;
authorizations never expire; the Balance endpoint is localstripe's fixed figure; error messages
for requests localstripe itself refuses stay its short "Bad request"; no request IDs.

The functions below (`client`) are what tests, benchmarks and the supervisor call.
"""

from devstack.fakestripe.client import (
    accept_all_keys,
    delay_requests,
    fail_refund,
    open_dispute,
    pay,
    register_webhook,
    resolve_dispute,
    revoke_keys,
)
from devstack.fakestripe.run import main

__all__ = [
    "accept_all_keys",
    "delay_requests",
    "fail_refund",
    "main",
    "open_dispute",
    "pay",
    "register_webhook",
    "resolve_dispute",
    "revoke_keys",
]
