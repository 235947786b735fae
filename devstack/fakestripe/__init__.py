"""The fake Stripe of `make dev` and of the tests: localstripe (PyPI `localstripe` 1.15.x) with its
state where we choose (`state`), bound to one address (127.0.0.1 by default).

    python -m devstack.fakestripe --port 8420 --state-file .dev/localstripe.pickle

Without `--state-file`, memory only.

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
* `disputes`: Stripe's Dispute object and API (`GET /v1/disputes/{id}`,
  `GET /v1/disputes?payment_intent=|charge=`, `POST /v1/disputes/{id}`,
  `POST /v1/disputes/{id}/close`) and its `charge.dispute.*` events.
* `objects`: events carry `request.idempotency_key`, update events `previous_attributes`; all
  are kept (`GET /v1/events`, newest first) and sent to the registered webhooks, signed as
  localstripe signs.

Test-only controls, all under `/_test/` (no API key needed, never confused with Stripe's API):

* `POST /_test/disputes` `{payment_intent, amount?, reason?}`: the bank opens a dispute
  (`needs_response`, funds withdrawn; `charge.dispute.created`, `charge.dispute.funds_withdrawn`).
* `POST /_test/disputes/{id}/resolve` `{outcome: won|lost}`: `charge.dispute.closed`, and on
  `won` `charge.dispute.funds_reinstated`.
* `POST /_test/refunds/{id}/fail` `{failure_reason?}`: a succeeded refund fails later (status
  `failed`, money back to the balance; `refund.failed`, `refund.updated`).
* `POST /_test/delays` `{path, seconds, method?, times?}`, `DELETE /_test/delays`: hold matching
  requests after they ran (a lost response; a key in flight).

`client` has what tests, benchmarks and the supervisor call: `register_webhook`, `pay` (the card
payment a storefront's Stripe.js makes) and a function per control.
"""

from devstack.fakestripe.client import (
    delay_requests,
    fail_refund,
    open_dispute,
    pay,
    register_webhook,
    resolve_dispute,
)
from devstack.fakestripe.run import main

__all__ = [
    "delay_requests",
    "fail_refund",
    "main",
    "open_dispute",
    "pay",
    "register_webhook",
    "resolve_dispute",
]
