"""The fake Stripe of `make dev` and of the tests: localstripe (PyPI `localstripe` 1.15.x) with its
state where we choose (`state`), bound to one address (127.0.0.1 by default).

    python -m devstack.fakestripe --port 8420 --state-file .dev/localstripe.pickle

Without `--state-file`, memory only.

What it adds to localstripe (each module's docstring has the details and the sources):

* `idempotency`: Idempotency-Key on POST /v1/...: the same key and parameters answer the first
  response again; other parameters or another endpoint: 400 `idempotency_error`; the key still
  in flight: 409 `idempotency_error` / `idempotency_key_in_use`; keys kept 24 h (in the state
  file too).
* `objects`: events carry `request.idempotency_key`; `GET /v1/events` lists newest first.

Test-only controls, under `/_test/` (no API key needed, never confused with Stripe's API):
`POST /_test/delays` `{path, seconds, method?, times?}`, `DELETE /_test/delays`: hold matching
requests after they ran (a lost response; a key in flight).

`client` has what tests, benchmarks and the supervisor call: `register_webhook`, `pay` (the card
payment a storefront's Stripe.js makes) and a function per control.
"""

from devstack.fakestripe.client import delay_requests, pay, register_webhook
from devstack.fakestripe.run import main

__all__ = ["delay_requests", "main", "pay", "register_webhook"]
