"""The benchmark of salesflow: `python -m bench` (`make bench`).

Measures, on the configured Kafka and PostgreSQL, side by side in one run:

1. a raw aiokafka pass-through (the baseline: consume, produce each record, commit; no database),
2. one stage started cold on N preloaded records against that baseline (lead_svc on
   `lead.captured`, order_svc on `quote.accepted`), and a worker's fixed CPU per batch and per
   message from a fit of its CPU against the batch size,
3. the whole lifecycle through the four workers: capacity, and fixed offered rates from a
   trickle to 90 % of capacity (deals per second, lead.captured -> invoice.posted latency
   percentiles, the cores the machine used),
4. the resident memory of every worker process, peak and over time.

The workers run as `salesflow worker <stage>` child processes, exactly as operators run them;
the benchmark counts only the outcomes of its own, freshly minted deal ids. Results are printed
as a table and written as JSON under `bench/results/`. See BENCHMARKS.md for the method.
"""
