"""The load simulator: the seeded lifecycle driver that plays customers, fulfilment and
accounting around the workers, and the sample lead feed.

Used by the demo (`salesflow drive`, `salesflow feed`), the benchmark and the fault-injection
harness. It speaks to salesflow only through Kafka with the published contracts, like any
upstream system, and imports no service.
"""
