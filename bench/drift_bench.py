"""Drift check cost: ``detect_drift`` vs scipy KS + chi-square on all rows vs Evidently's
defaults, on the same in-distribution data; then the calibration by batch size
(``drift_calibration.py``).

Each measurement runs in a fresh child process so peak RSS (``ru_maxrss``) belongs to that run
alone. A baseline child imports the same libraries and builds the same frames but runs no
check; the table reports each run's peak in total, above that baseline, and the check's own
peak above the RSS it started from (the peak mark is reset once the frames are built, since
building them can peak higher than a light check). Wall and CPU time of the check alone.
Runs are interleaved (baseline, scipy, defaults, ours) per repetition so machine noise hits
all modes. Both sides are drawn from one
distribution, so any flag is a false alarm.

    .venv/bin/python bench/drift_bench.py            # 100k and 1M rows per side, 3 repetitions
    .venv/bin/python bench/drift_bench.py --quick    # skip Evidently's defaults (60-570 s at 1M)
    .venv/bin/python bench/drift_bench.py --rows 20000 --reps 1 --no-calibration

Writes ``bench/results/drift.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from drift_data import N_CATEGORICAL, N_NUMERIC, bench_config, build_frame

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "drift.json"
MODES = ("baseline", "scipy_full", "evidently_defaults", "detect_drift")
SLOW_SINGLE_RUN_S = 60.0


def run_child(mode: str, rows: int) -> dict:
    """Measure one mode in this process; print one JSON line."""
    import gc

    import evidently.legacy.calculations.stattests
    import evidently.presets  # noqa: F401
    import scipy.stats  # noqa: F401

    reference, current = build_frame(rows, seed=1), build_frame(rows, seed=2)
    gc.collect()
    build_peak, rss_before = _peak_rss_mb(), _current_rss_mb()
    reset = _reset_peak_rss()
    started, cpu = time.perf_counter(), time.process_time()
    result: dict = {"mode": mode, "rows": rows, "columns": reference.shape[1]}
    result |= CHECKS[mode](reference, current)
    result["check_s"] = round(time.perf_counter() - started, 3)
    result["check_cpu_s"] = round(time.process_time() - cpu, 3)
    check_peak = _peak_rss_mb()
    result |= {
        "peak_rss_mb": max(build_peak, check_peak),
        "rss_before_check_mb": rss_before,
        "check_own_mb": round(check_peak - rss_before, 1) if reset else None,
        "load_1m": round(os.getloadavg()[0], 2),  # other work on the machine inflates times
    }
    print(json.dumps(result))
    return result


def check_nothing(reference, current) -> dict:
    return {"drifted": False, "drifted_columns": [], "share": 0.0}


def check_with_evidently_defaults(reference, current) -> dict:
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    from monitoring.drift import read_value_drift

    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        current_data=Dataset.from_pandas(current), reference_data=Dataset.from_pandas(reference)
    )
    verdicts = read_value_drift(snapshot.dict(), list(reference.columns))
    drifted = [c for c, (_, flag) in verdicts.items() if flag]
    share = len(drifted) / len(verdicts)
    return {"drifted": share >= 0.5, "drifted_columns": drifted, "share": share}


def check_with_scipy(reference, current) -> dict:
    """The plain statistician's check on every row: KS for numbers, chi-square for categories
    (p < 0.05 per column; same dataset rule as the others)."""
    import pandas as pd
    from scipy import stats

    drifted = []
    for col in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[col]):
            p = stats.ks_2samp(reference[col].to_numpy(), current[col].to_numpy()).pvalue
        else:
            table = pd.concat([reference[col].value_counts(), current[col].value_counts()], axis=1).fillna(0)
            p = stats.chi2_contingency(table.to_numpy().T)[1]
        if p < 0.05:
            drifted.append(col)
    share = len(drifted) / reference.shape[1]
    return {"drifted": share >= 0.5, "drifted_columns": drifted, "share": share}


def check_with_detect_drift(reference, current) -> dict:
    from monitoring.drift import detect_drift

    report = detect_drift(reference, current, bench_config(), features=list(reference.columns))
    return {"drifted": report.drifted, "drifted_columns": list(report.drifted_columns), "share": report.share}


CHECKS = {
    "baseline": check_nothing,
    "scipy_full": check_with_scipy,
    "evidently_defaults": check_with_evidently_defaults,
    "detect_drift": check_with_detect_drift,
}


def _peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return round(kb / 1024, 1)


def _reset_peak_rss() -> bool:
    """Reset the peak-RSS mark (Linux ``clear_refs`` 5) so the check's own peak is measurable
    even when building the frames peaked higher."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def spawn(mode: str, rows: int) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--rows", str(rows)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} at {rows} rows failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(row_counts: list[int], reps: int, quick: bool) -> list[dict]:
    runs: list[dict] = []
    for rows in row_counts:
        slow_defaults = quick
        for rep in range(reps):
            for mode in MODES:
                if mode == "evidently_defaults" and slow_defaults:
                    continue
                run = spawn(mode, rows) | {"rep": rep}
                runs.append(run)
                print(
                    f"  {rows:>9,} rows  rep {rep}  {mode:<19} {run['check_s']:>7.2f} s  "
                    f"{run['check_cpu_s']:>7.2f} s CPU  {run['peak_rss_mb']:>7.0f} MB",
                    flush=True,
                )
                slow_defaults |= mode == "evidently_defaults" and run["check_s"] > SLOW_SINGLE_RUN_S
    return runs


def summarise(runs: list[dict]) -> list[dict]:
    rows_out = []
    for rows in sorted({r["rows"] for r in runs}):
        base = statistics.median(r["peak_rss_mb"] for r in runs if r["rows"] == rows and r["mode"] == "baseline")
        for mode in MODES[1:]:
            mine = [r for r in runs if r["rows"] == rows and r["mode"] == mode]
            if not mine:
                continue
            peak = statistics.median(r["peak_rss_mb"] for r in mine)
            rows_out.append(
                {
                    "rows": rows,
                    "mode": mode,
                    "runs": len(mine),
                    "check_s": round(statistics.median(r["check_s"] for r in mine), 2),
                    "check_cpu_s": round(statistics.median(r["check_cpu_s"] for r in mine), 2),
                    "peak_rss_mb": round(peak, 1),
                    "baseline_rss_mb": round(base, 1),
                    "over_baseline_mb": round(peak - base, 1),
                    "check_own_mb": _median_or_none([r["check_own_mb"] for r in mine]),
                    "false_alarms": sum(bool(r["drifted"]) for r in mine),
                    "drifted_columns": sorted({c for r in mine for c in r["drifted_columns"]}),
                }
            )
    return rows_out


def _median_or_none(values: list):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def print_table(summary: list[dict]) -> None:
    """Times are medians; 'peak' is the whole child, 'check' is the check's own peak above the
    RSS it started from (the frames are already in memory on both sides)."""
    header = (
        f"{'rows/side':>10} {'mode':<19} {'runs':>4} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} "
        f"{'+base MB':>9} {'check MB':>9} {'flagged':>8}"
    )
    print("\n" + header)
    for s in summary:
        own = "-" if s["check_own_mb"] is None else f"{s['check_own_mb']:.0f}"
        print(
            f"{s['rows']:>10,} {s['mode']:<19} {s['runs']:>4} {s['check_s']:>8.2f} {s['check_cpu_s']:>8.2f} "
            f"{s['peak_rss_mb']:>8.0f} {s['over_baseline_mb']:>9.0f} {own:>9} {s['false_alarms']:>4}/{s['runs']}"
        )
    for rows in sorted({s["rows"] for s in summary}):
        ours = next(s for s in summary if s["rows"] == rows and s["mode"] == "detect_drift")
        for other in ("scipy_full", "evidently_defaults"):
            them = next((s for s in summary if s["rows"] == rows and s["mode"] == other), None)
            if them is not None:
                print(
                    f"{rows:>10,} {other}/detect_drift: wall x{them['check_s'] / ours['check_s']:.1f}, "
                    f"CPU x{them['check_cpu_s'] / max(ours['check_cpu_s'], 0.01):.1f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="rows per side")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip Evidently's defaults (60-570 s at 1M rows)")
    parser.add_argument("--seeds", type=int, default=100, help="calibration seeds at the small sizes")
    parser.add_argument("--no-calibration", action="store_true", help="only the cost table")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        run_child(args.child, args.rows[0])
        return
    runs = measure(args.rows, args.reps, args.quick)
    summary = summarise(runs)
    print_table(summary)
    meta = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "columns": N_NUMERIC + N_CATEGORICAL,
        "quick": args.quick,
    }
    calibration = None
    if not args.no_calibration:
        from drift_calibration import calibrate, print_calibration

        calibration = calibrate(args.seeds)
        print_calibration(calibration)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(meta | {"summary": summary, "runs": runs, "calibration": calibration}, indent=2) + "\n"
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
