"""The result of a benchmark run: the targets, the table, the JSON file."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import orjson

# The targets (2 cores; Kafka, PostgreSQL, the four workers and the load generator on
# them), one row each: the key in `result["targets"]`, what is compared, the bound.
TARGETS: dict[str, tuple[str, str, float]] = {
    "lead_ratio": ("lead_svc / raw pass-through, same run", ">=", 0.70),
    "order_ratio": ("order_svc / raw pass-through, same run", ">=", 0.70),
    "fixed_ms_per_batch": ("fixed CPU per batch, ms (fit)", "<=", 1.0),
    "per_message_us": ("CPU per message, us (fit)", "<=", 100.0),
    "quarter_load_busy": ("machine busy at 25 % of capacity, share of its cores", "<=", 0.5),
    "deals_per_s": ("end to end, deals/s sustained", ">=", 1500.0),
    "p99_half_load_ms": ("p99 lead.captured -> invoice.posted at half load, ms", "<=", 500.0),
    "p99_trickle_ms": ("p99 lead.captured -> invoice.posted at 1 deal/s, ms", "<=", 100.0),
    "rss_mb": ("peak RSS per worker, MB", "<", 150.0),
    "rss_slope_mb_per_min": ("RSS slope after warm-up, MB/min (flat)", "<=", 0.5),
}


def target_text(key: str) -> str:
    _, op, bound = TARGETS[key]
    return f"{op} {bound:.2f}" if bound < 1 else f"{op} {bound:,.0f}"


def meets(key: str, value: float | None) -> bool | None:
    """Whether `value` meets target `key`; None when it was not measured."""
    if value is None:
        return None
    _, op, bound = TARGETS[key]
    if op == ">=":
        return value >= bound
    if op == "<=":
        return value <= bound
    return value < bound


def _verdict(key: str, value: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "label": TARGETS[key][0],
        "target": target_text(key),
        "value": value,
        "met": meets(key, value),
        **extra,
    }


def verdicts(result: dict[str, Any]) -> dict[str, Any]:
    """Target by target: the measured figure and whether it meets the target (absent: the
    profile did not measure it)."""
    out: dict[str, Any] = {}
    stages = (result.get("stage") or {}).get("stages", {})
    for name in ("lead", "order"):
        if name in stages:
            out[f"{name}_ratio"] = _verdict(f"{name}_ratio", stages[name]["ratio"]["median"])
    fit = (result.get("stage") or {}).get("cpu_fit")
    if fit:
        out["fixed_ms_per_batch"] = _verdict("fixed_ms_per_batch", fit["fixed_ms_per_batch"])
        out["per_message_us"] = _verdict(
            "per_message_us",
            fit["per_message_us"],
            cpu_per_message_us_at_500=fit["cpu_per_message_us_at_batch"],
        )
    life = result.get("lifecycle")
    if life:
        levels = life["levels"]
        cpus = result["machine"]["cpus"] or 1
        quarter = levels.get("quarter")
        if quarter:
            cores = quarter["machine_cores"]["median"]
            out["quarter_load_busy"] = _verdict(
                "quarter_load_busy",
                round(cores / cpus, 3) if cores is not None else None,
                cores=cores,
                cpus=cpus,
                offered_rate=quarter["offered_rate"],
            )
        capacity = life["capacity"]["deals_per_s"]["median"]
        near = levels.get("near_max")
        sustained = near["deals_per_s"]["median"] if near and all(near["kept_up"]) else None
        v = _verdict("deals_per_s", capacity, sustained_near_max=sustained)
        v["met"] = bool(v["met"]) and sustained is not None
        out["deals_per_s"] = v
        for key, level in (("p99_half_load_ms", "half"), ("p99_trickle_ms", "trickle")):
            if level in levels:
                out[key] = _verdict(key, levels[level]["p99_ms"]["median"])
    memory = (result.get("soak") or {}).get("memory") or (life or {}).get("memory")
    if memory:
        over = "soak (10 min)" if result.get("soak") else "the end-to-end phase"
        peak = max(m.get("peak_mb", 0) for m in memory.values())
        slope = max(m.get("slope_mb_per_min", 0) for m in memory.values())
        out["rss_mb"] = _verdict("rss_mb", peak, over=over)
        out["rss_slope_mb_per_min"] = _verdict("rss_slope_mb_per_min", slope, over=over)
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
        f"{label:<52}{_fmt(s.get('median'), d):>10}{_fmt(s.get('min'), d):>10}"
        f"{_fmt(s.get('max'), d):>10}  {target:<10}{flag}"
    )


def _target_row(label: str, v: dict[str, Any] | None, key: str, d: int = 0) -> str:
    """A single figure (no spread) against its target."""
    v = v or {}
    return _row(label, {"median": v.get("value")}, target_text(key), v.get("met"), d)


def _stage_lines(name: str, measured: dict[str, Any], n: int, v: dict[str, Any]) -> list[str]:
    service, topic = measured["service"], measured["input"]
    return [
        f"   baseline: raw aiokafka pass-through, {n:,} {topic} "
        f"({measured['mean_message_bytes']:,} bytes each)",
        _row("     messages/s", measured["baseline_msgs_per_s"]),
        f"   {service} started cold on the same {n:,} records",
        _row("     messages/s", measured["stage_msgs_per_s"]),
        _row(
            "     ratio to the baseline (same run)",
            measured["ratio"],
            target_text(f"{name}_ratio"),
            (v.get(f"{name}_ratio") or {}).get("met"),
            2,
        ),
        _row("     worker start-up to group join, s", measured["stage_startup_s"], d=1),
    ]


def _fit_lines(fit: dict[str, Any], v: dict[str, Any]) -> list[str]:
    points = sorted(fit["points"], key=lambda p: p["batch_max_records"])
    shown = ", ".join(
        f"{p['batch_max_records']}: {p['batches']:.0f} batches {p['cpu_s']:.2f} s" for p in points
    )
    r2 = fit["r2"]
    return [
        f"   {fit['service']} CPU (user+sys, /proc) = fixed x batches + per message x messages,"
        f" least squares over {fit['points_used']} runs (R^2 {_fmt(r2, 3)})",
        f"     runs by max batch size: {shown}",
        _target_row(
            "     fixed CPU per batch, ms", v.get("fixed_ms_per_batch"), "fixed_ms_per_batch", 2
        ),
        _target_row("     CPU per message, us", v.get("per_message_us"), "per_message_us", 0),
        _row(
            f"     CPU per message at {fit['at_batch']}-record batches, us",
            {"median": fit["cpu_per_message_us_at_batch"]},
        ),
    ]


def _level_lines(name: str, level: dict[str, Any], v: dict[str, Any]) -> list[str]:
    labels = {
        "trickle": "trickle",
        "quarter": "quarter load",
        "half": "half load",
        "near_max": "near max",
    }
    if name == "trickle":
        run = level["runs"][0]
        kept = f"{run['deals_completed']}/{run['deals_published']} deals finished"
    else:
        kept = "kept up" if all(level["kept_up"]) else "FELL BEHIND"
    p99_key = {"half": "p99_half_load_ms", "trickle": "p99_trickle_ms"}.get(name)
    lines = [
        f"   {labels.get(name, name)}: {level['offered_rate']:,.0f} deals/s offered ({kept})",
        _row("     deals/s completed", level["deals_per_s"]),
        _row("     latency p50, ms (lead.captured->invoice.posted)", level["p50_ms"]),
        _row("     latency p95, ms", level["p95_ms"]),
        _row(
            "     latency p99, ms",
            level["p99_ms"],
            target_text(p99_key) if p99_key else "",
            (v.get(p99_key) or {}).get("met") if p99_key else None,
        ),
        _row("     machine, cores in use", level.get("machine_cores"), d=2),
    ]
    if name == "quarter" and "quarter_load_busy" in v:
        lines.append(
            _target_row(
                "     machine busy, share of its cores",
                v["quarter_load_busy"],
                "quarter_load_busy",
                2,
            )
        )
    return lines


def _lifecycle_lines(life: dict[str, Any], v: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    cap = life["capacity"]
    dv = v.get("deals_per_s", {})
    lines += [
        "3. end to end: four workers, the demo driver's deal mix (bench/loadgen.py)",
        _row(
            f"   capacity, closed loop ({cap['in_flight']} in flight), deals/s",
            cap["deals_per_s"],
            target_text("deals_per_s"),
            dv.get("met"),
        ),
        f"   sustained (near max kept up), deals/s: {_fmt(dv.get('sustained_near_max'))}",
    ]
    order = ("trickle", "quarter", "half", "near_max")
    for name in sorted(life["levels"], key=lambda k: order.index(k) if k in order else 9):
        lines += _level_lines(name, life["levels"][name], v)
    cores = _median_cores([r["cpu_cores"] for r in cap["runs"]])
    lines.append(
        "   cores in use at capacity: "
        + ", ".join(f"{name} {value:.2f}" for name, value in cores.items())
    )
    for level, label in (("trickle", "a trickle"), ("half", "half load")):
        runs = life["levels"].get(level, {}).get("runs", [])
        hops = runs[len(runs) // 2]["hops_ms"] if runs else {}
        if hops:
            lines.append(
                f"   hop p50/p99 ms at {label}: "
                + ", ".join(f"{hop} {h['p50']:.0f}/{h['p99']:.0f}" for hop, h in hops.items())
            )
    mix = _mix(cap["runs"])
    if mix:
        lines.append(f"   deal mix at capacity (counts): {mix}")
    return lines


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = result["targets"]
    lines = [
        f"salesflow benchmark, {result['finished_at']}  ({result['profile']['name']} profile)",
        f"command: {result['command']}",
        f"machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB RAM, "
        f"load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}",
        "",
        f"{'':<52}{'median':>10}{'min':>10}{'max':>10}  {'target':<10}met",
    ]
    stage = result.get("stage")
    if stage:
        n = stage["messages"]
        lines.append(
            "1+2. one stage against the raw pass-through, started cold on the same records"
        )
        for name, measured in stage["stages"].items():
            lines += _stage_lines(name, measured, n, v)
        if stage.get("cpu_fit"):
            lines.append("2b. a worker's CPU per batch and per message")
            lines += _fit_lines(stage["cpu_fit"], v)
    life = result.get("lifecycle")
    if life:
        lines += _lifecycle_lines(life, v)
    memory = (result.get("soak") or {}).get("memory") or (life or {}).get("memory")
    if memory:
        over = v["rss_mb"]["over"]
        lines.append(f"4. memory (RSS) per worker over {over}: peak / steady MB, slope MB/min")
        for name, mem in sorted(memory.items()):
            slope = _fmt(mem.get("slope_mb_per_min"), 2)
            lines.append(
                f"   {name:<20} peak {_fmt(mem.get('peak_mb'), 1):>7}  steady "
                f"{_fmt(mem.get('steady_mb'), 1):>7}  slope {slope:>6}"
                f"  ({mem.get('samples', 0)} samples, {_fmt(mem.get('seconds'), 0)} s)"
            )
        lines.append(_target_row("   peak RSS, worst worker, MB", v["rss_mb"], "rss_mb", 1))
        lines.append(
            _target_row(
                "   slope, worst worker, MB/min",
                v["rss_slope_mb_per_min"],
                "rss_slope_mb_per_min",
                2,
            )
        )
        if not result.get("soak"):
            lines.append("   (`make bench-soak` for the ten-minute run)")
    soak = result.get("soak")
    if soak:
        run = soak["run"]
        lines.append(
            f"   soak: {run['offered_rate']:,.0f} deals/s offered for {run['seconds_fed']:.0f} s, "
            f"{run['deals_per_s']:,.0f} deals/s completed, p99 {run['latency_ms']['p99']} ms"
        )
    lines += ["", *summary(v)]
    if result.get("warnings"):
        lines.append("")
        lines += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)


def summary(v: dict[str, Any]) -> list[str]:
    """The targets in one list, in the issue's order: measured, target, met."""
    rows = ["targets (issue 16):"]
    for key in TARGETS:
        if key not in v:
            rows.append(f"   {TARGETS[key][0]:<56}{'not measured':>12}")
            continue
        t = v[key]
        value = t["value"]
        shown = "-" if value is None else f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
        flag = "-" if t["met"] is None else "yes" if t["met"] else "NO"
        rows.append(f"   {t['label']:<56}{shown:>12}  {t['target']:<10}{flag}")
    met = sum(1 for t in v.values() if t["met"])
    rows.append(f"   met: {met} of {len(v)} measured")
    return rows


def _mix(runs: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for run in runs:
        for name, count in run.get("counts", {}).items():
            counts[name] = counts.get(name, 0) + count
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))


def _median_cores(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for row in rows for k in row}, key=lambda k: (k in ("other", "machine"), k))
    return {k: statistics.median(row.get(k, 0.0) for row in rows) for k in keys}


def write(result: dict[str, Any], directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-{stamp}.json"
    # `default=str`: a figure of a type orjson does not know is written as text rather than
    # losing the whole result at the end of a run.
    data = orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str)
    path.write_bytes(data)
    (directory / "latest.json").write_bytes(data)
    return path
