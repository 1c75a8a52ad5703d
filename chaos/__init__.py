"""Fault injection for salesflow: prove the guarantees under crashes, outages and bad input.

`python -m chaos --seed S --duration D [--scenarios ...]` runs the four workers as separate
processes on a real Kafka and PostgreSQL, drives the lifecycle driver at a steady rate, applies a
seeded schedule of faults (`schedule`, `faults`), waits for quiescence, then checks the
invariants over everything that was published and committed (`history`, `checker`) and writes a
report (`report`). The same seed gives the same schedule and the same business decisions, so a
failing seed is replayed by running it again.
"""
