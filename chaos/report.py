"""The report of a run: JSON for machines (and the CI test), text for people."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from chaos.harness import RunOutcome


def recovery_by_kind(faults: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per fault kind: how many were applied, and the slowest progress and throughput recovery
    of any affected service after any of them (None: some service never recovered)."""
    kinds: dict[str, dict[str, Any]] = {}
    for fault in faults:
        entry = kinds.setdefault(
            fault["kind"], {"faults": 0, "progress_s_max": 0.0, "throughput_s_max": 0.0}
        )
        entry["faults"] += 1
        for r in fault["recovery"]:
            for name, key in (
                ("progress_s", "progress_s_max"),
                ("throughput_s", "throughput_s_max"),
            ):
                value, worst = r[name], entry[key]
                entry[key] = None if value is None or worst is None else max(worst, value)
    return kinds


def as_dict(outcome: RunOutcome) -> dict[str, Any]:
    c = outcome.config
    return {
        "passed": outcome.passed,
        "seed": c.seed,
        "duration_s": c.duration_s,
        "rate_per_s": c.rate,
        "scenarios": list(c.kinds),
        "brokers": c.brokers,
        "invoice_mode": c.invoice_mode,
        "command": c.command,
        "run_id": outcome.run_id,
        "started_at": outcome.started_at,
        "wall_seconds": round(outcome.seconds, 1),
        "bounds": {
            "progress_s": c.bounds.progress_s,
            "throughput_s": c.bounds.throughput_s,
            "ratio": c.bounds.ratio,
            "window_s": c.bounds.window_s,
        },
        "schedule": [f.describe() for f in outcome.schedule],
        "faults": [a.as_dict() for a in outcome.applied],
        "recovery_by_kind": recovery_by_kind([a.as_dict() for a in outcome.applied]),
        "invariants": [r.summary() for r in outcome.results],
        "facts": outcome.facts,
    }


def render(outcome: RunOutcome) -> str:
    d = as_dict(outcome)
    facts = outcome.facts
    dropped = facts.get("counters", {}).get("salesflow_duplicates_dropped_total", 0)
    lines = [
        f"chaos run {d['run_id']}: {'PASS' if d['passed'] else 'FAIL'}",
        f"  seed {d['seed']}, duration {d['duration_s']:.0f}s at {d['rate_per_s']} deals/s, "
        f"wall {d['wall_seconds']:.0f}s, started {d['started_at']}",
        f"  replay: {d['command']}",
        f"  deals {facts.get('deals')}, records checked {facts.get('records_read')}, "
        f"duplicates dropped by inboxes {dropped:.0f}, "
        f"copies re-published {facts.get('republished')}",
        "faults",
    ]
    for f in d["faults"]:
        rec = ", ".join(
            f"{r['service']} progress {r['progress_s']}s / {r['throughput_s']}s to "
            f"{d['bounds']['ratio']:.0%}"
            for r in f["recovery"]
        )
        status = "ok" if f["ok"] else "FAILED"
        lines.append(f"  [{status}] t={f['started_s']:>6}s {f['fault']}: {f['detail']}")
        lines.append(
            f"        healed t={f['healed_s']}s"
            + (f" (restart took {f['restart_s']}s)" if f["restart_s"] is not None else "")
            + (
                f", recovery measured from t={f['measured_from_s']}s (a fault active with it "
                "healed then)"
                if (f["measured_from_s"] or 0.0) > f["healed_s"]
                else ""
            )
            + "; duplicates dropped "
            f"{f['duplicates_dropped_during']:.0f}; {rec}"
        )
    lines.append("recovery by kind (slowest affected service: progress / 80 % throughput)")
    for kind, entry in d["recovery_by_kind"].items():
        lines.append(
            f"  {kind:<24} x{entry['faults']}: {entry['progress_s_max']}s / "
            f"{entry['throughput_s_max']}s"
        )
    lines.extend(
        f"  overlap: {o['fault']} started {o['started_after_s']}s into {o['during']}: "
        + (f"both active for {o['together_s']}s" if o["overlapped"] else "which had healed")
        for o in facts.get("overlaps", [])
    )
    lines.append("invariants")
    for r in outcome.results:
        counts = ", ".join(f"{k}={v:g}" for k, v in sorted(r.counts.items()))
        lines.append(
            f"  [{'pass' if r.passed else 'FAIL'}] {r.name}: checked {r.checked}, "
            f"violations {len(r.violations)}" + (f" ({counts})" if counts else "")
        )
        lines += [f"        - {v}" for v in r.violations[:12]]
    return "\n".join(lines)


def write(outcome: RunOutcome, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    text_path = directory / "report.txt"
    json_path.write_bytes(orjson.dumps(as_dict(outcome), option=orjson.OPT_INDENT_2, default=str))
    text_path.write_text(render(outcome) + "\n")
    return json_path, text_path
