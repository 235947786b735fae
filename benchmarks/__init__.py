"""`python -m benchmarks` (what `make bench` runs): checkout latency and throughput on the stack
`make dev` runs, against a bare Temporal baseline measured again in the same run.

No side effects at import time: the Temporal workflow sandbox re-imports this package for the
baseline workflow (benchmarks/baseline.py).
"""
