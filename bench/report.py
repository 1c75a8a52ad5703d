"""The result of a benchmark run: the targets, the table, the JSON file."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import orjson

TARGETS = {
    "stage_ratio": 0.70,
    "deals_per_s": 1500.0,
    "p99_half_load_ms": 500.0,
    "rss_mb": 150.0,
    "rss_slope_mb_per_min": 0.5,
}


def verdicts(result: dict[str, Any]) -> dict[str, Any]:
    """Target by target: the measured figure and whether it meets the target (None: not run)."""
    out: dict[str, Any] = {}
    stage = result.get("stage")
    if stage:
        ratio = stage["ratio"]["median"]
        out["stage_ratio"] = {"target": ">= 0.70", "value": ratio, "met": ratio >= 0.70}
    life = result.get("lifecycle")
    if life:
        capacity = life["capacity"]["deals_per_s"]["median"]
        near = life["levels"]["near_max"]
        sustained = near["deals_per_s"]["median"] if all(near["kept_up"]) else None
        out["deals_per_s"] = {
            "target": ">= 1500 sustained",
            "value": capacity,
            "sustained_near_max": sustained,
            "met": capacity >= TARGETS["deals_per_s"] and sustained is not None,
        }
        p99 = life["levels"]["half"]["p99_ms"]["median"]
        out["p99_half_load_ms"] = {
            "target": "< 500 ms at half load",
            "value": p99,
            "met": p99 < TARGETS["p99_half_load_ms"],
        }
    memory = (result.get("soak") or {}).get("memory") or (life or {}).get("memory")
    if memory:
        peak = max(m.get("peak_mb", 0) for m in memory.values())
        slope = max(m.get("slope_mb_per_min", 0) for m in memory.values())
        soaked = bool(result.get("soak"))
        out["rss"] = {
            "target": "< 150 MB per worker, flat over 10 minutes",
            "peak_mb": peak,
            "max_slope_mb_per_min": slope,
            "over": "soak (10 min)" if soaked else "the end-to-end phase",
            "met": peak < TARGETS["rss_mb"] and slope <= TARGETS["rss_slope_mb_per_min"],
        }
    return out


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _row(
    label: str, s: dict[str, Any] | None, target: str = "", met: Any = None, d: int = 0
) -> str:
    s = s or {}
    flag = "" if met is None else ("yes" if met else "NO")
    return (
        f"{label:<46}{_fmt(s.get('median'), d):>10}{_fmt(s.get('min'), d):>10}"
        f"{_fmt(s.get('max'), d):>10}  {target:<22}{flag}"
    )


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = result["targets"]
    lines = [
        f"salesflow benchmark, {result['finished_at']}  ({result['profile']['name']} profile)",
        f"command: {result['command']}",
        f"machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB RAM, "
        f"load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}",
        "",
        f"{'':<46}{'median':>10}{'min':>10}{'max':>10}  {'target':<22}met",
    ]
    stage = result.get("stage")
    if stage:
        n = stage["messages"]
        lines += [
            f"1. baseline: raw aiokafka pass-through, {n:,} msgs",
            _row("   messages/s", stage["baseline_msgs_per_s"]),
            f"2. one stage: lead_svc started cold, {n:,} lead.captured",
            _row("   messages/s", stage["stage_msgs_per_s"]),
            _row(
                "   ratio to the baseline (same run)",
                stage["ratio"],
                ">= 0.70",
                v["stage_ratio"]["met"],
                2,
            ),
            _row("   worker start-up to group join, s", stage["stage_startup_s"], d=1),
        ]
    life = result.get("lifecycle")
    if life:
        cap = life["capacity"]
        lines += [
            "3. end to end: four workers, the demo driver's deal mix",
            _row(
                f"   capacity, closed loop ({cap['in_flight']} in flight), deals/s",
                cap["deals_per_s"],
                ">= 1500",
                v["deals_per_s"]["met"],
            ),
        ]
        labels = {"quarter": "quarter load", "half": "half load", "near_max": "near max"}
        for name, level in life["levels"].items():
            label = labels.get(name, name)
            kept = "kept up" if all(level["kept_up"]) else "FELL BEHIND"
            lines += [
                f"   {label}: {level['offered_rate']:,.0f} deals/s offered ({kept})",
                _row("     deals/s completed", level["deals_per_s"]),
                _row("     latency p50, ms (lead.captured->invoice.posted)", level["p50_ms"]),
                _row("     latency p95, ms", level["p95_ms"]),
                _row(
                    "     latency p99, ms",
                    level["p99_ms"],
                    "< 500 (half load)" if name == "half" else "",
                    v["p99_half_load_ms"]["met"] if name == "half" else None,
                ),
            ]
    if life:
        cores = _median_cores([r["cpu_cores"] for r in life["capacity"]["runs"]])
        lines.append(
            "   cores in use at capacity: "
            + ", ".join(f"{name} {value:.2f}" for name, value in cores.items())
        )
        half = life["levels"]["half"]["runs"]
        hops = half[len(half) // 2]["hops_ms"] if half else {}
        if hops:
            lines.append(
                "   hop p50/p99 ms at half load: "
                + ", ".join(f"{hop} {v['p50']:.0f}/{v['p99']:.0f}" for hop, v in hops.items())
            )
    memory = (result.get("soak") or {}).get("memory") or (life or {}).get("memory")
    if memory:
        over = v["rss"]["over"]
        lines.append(f"4. memory (RSS) per worker over {over}: peak / steady MB, slope MB/min")
        for name, mem in sorted(memory.items()):
            slope = _fmt(mem.get("slope_mb_per_min"), 2)
            lines.append(
                f"   {name:<20} peak {_fmt(mem.get('peak_mb'), 1):>7}  steady "
                f"{_fmt(mem.get('steady_mb'), 1):>7}  slope {slope:>6}"
                f"  ({mem.get('samples', 0)} samples, {_fmt(mem.get('seconds'), 0)} s)"
            )
        lines.append(
            f"   target < 150 MB and flat: {'yes' if v['rss']['met'] else 'NO'}"
            + ("" if result.get("soak") else " (run `make bench-soak` for the 10-minute run)")
        )
    soak = result.get("soak")
    if soak:
        run = soak["run"]
        lines.append(
            f"   soak: {run['offered_rate']:,.0f} deals/s offered for {run['seconds_fed']:.0f} s, "
            f"{run['deals_per_s']:,.0f} deals/s completed, p99 {run['latency_ms']['p99']} ms"
        )
    if result.get("warnings"):
        lines.append("")
        lines += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)


def _median_cores(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for row in rows for k in row}, key=lambda k: (k in ("other", "machine"), k))
    return {k: statistics.median(row.get(k, 0.0) for row in rows) for k in keys}


def write(result: dict[str, Any], directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-{stamp}.json"
    data = orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    path.write_bytes(data)
    (directory / "latest.json").write_bytes(data)
    return path
