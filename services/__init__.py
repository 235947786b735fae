"""Domain logic on the database, shared by the API and the activities; one module per domain.

Functions take the caller's `AsyncSession` and run inside the caller's transaction. A refusal
the caller can act on is a `services.errors.ServiceError` with a machine-readable code.
"""
