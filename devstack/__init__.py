"""The local development stack behind `make dev`: `python -m devstack` starts and supervises
PostgreSQL (embedded), Temporal's dev server, localstripe, the API and the worker.

One module per concern: `config` (environment), `ports`, `process` (child processes and
their logs), `readiness`, `postgres`, `temporal`, `fakestripe` (the fake Stripe: localstripe
extended to behave like Stripe where orders depend on it, its state under the dev dir),
`supervisor` (the order things start and stop in). Beside the stack: `faultproxy` (the fault
tests' proxy in front of the fake Stripe) and `replay_check` (`make replay-check`, the deploy
gate).
"""
