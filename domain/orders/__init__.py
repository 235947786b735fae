"""The order after checkout: statuses, the workflow's snapshot of an order, operations and their checks.

Pure code (pydantic and the standard library): the OrderWorkflow's sandbox loads it, the services
and the API use the same definitions. Nothing runs at import time.
"""
