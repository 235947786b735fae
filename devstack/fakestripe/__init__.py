"""The fake Stripe of `make dev` and of the tests: localstripe (PyPI `localstripe` 1.15.x) with its
state where we choose (`state`), bound to one address (127.0.0.1 by default).

    python -m devstack.fakestripe --port 8420 --state-file .dev/localstripe.pickle

Without `--state-file`, memory only. `client` has what tests, benchmarks and the supervisor call:
`register_webhook`, and `pay`, the card payment a storefront's Stripe.js makes.
"""

from devstack.fakestripe.client import pay, register_webhook
from devstack.fakestripe.run import main

__all__ = ["main", "pay", "register_webhook"]
