"""The benchmark of salesflow: `python -m bench` (`make bench`).

Measures, on the configured Kafka and PostgreSQL, side by side in one run:

1. a raw aiokafka pass-through (the baseline: consume, produce each record, commit; no database),
2. one stage (lead_svc started cold on N preloaded `lead.captured` events) against that baseline,
3. the whole lifecycle through the four workers at fixed offered rates (deals per second,
   lead.captured -> invoice.posted latency percentiles),
4. the resident memory of every worker process, peak and over time.

The workers run as `salesflow worker <stage>` child processes, exactly as operators run them;
the benchmark counts only the outcomes of its own, freshly minted deal ids. Results are printed
as a table and written as JSON under `bench/results/`. See BENCHMARKS.md for the method.
"""
