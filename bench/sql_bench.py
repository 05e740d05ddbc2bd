"""A SQL source of 1M rows: Retrain's chunked slice reads vs ``pandas.read_sql`` of the whole table.

Fills a table of PostgreSQL (``RETRAIN_BENCH_PG``, else ``RETRAIN_TEST_PG``, else
127.0.0.1:5432; database ``test``, a schema of its own, dropped afterwards) with 1M rows over
ten days (a timestamp and eight numeric and text columns), then measures each mode as a fresh
process, alternating which goes first:

- ``chunked_slices``: ``training.sql_slices`` as a SQL source reads it: ten daily slices, each
  ``chunk_rows`` (50 000) rows at a time into its Parquet file;
- ``read_sql_whole``: ``pandas.read_sql`` of the whole table into one frame, written to one
  Parquet file.

Wall seconds and peak resident memory (``ru_maxrss`` of the child) are reported.

    .venv/bin/python bench/sql_bench.py             # 3 runs per mode
    .venv/bin/python bench/sql_bench.py --rows 200000 --reps 2

Writes ``bench/results/sql.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, write_result

CHUNKED = """
import sys
from pathlib import Path
import pandas as pd
from base.settings_training import SqlSourceConfig
from training.sql_slices import closed_slices, open_source, slice_name, span, write_slice
url, out = sys.argv[1], Path(sys.argv[2])
sql = SqlSourceConfig(url=url, table="events", batch_every="day")
engine = open_source(sql)
low, high = span(engine, sql, "ts")
rows = 0
for start, end in closed_slices(low, high, pd.Timestamp.now(tz="UTC"), "day"):
    target = out / slice_name(start, end, "day")
    rows += write_slice(engine, sql, "ts", start.to_pydatetime(), end.to_pydatetime(), target)
print(rows)
"""
WHOLE = """
import sys
from pathlib import Path
import pandas as pd
import sqlalchemy as sa
url, out = sys.argv[1], Path(sys.argv[2])
frame = pd.read_sql("SELECT * FROM events ORDER BY ts", sa.create_engine(url))
frame.to_parquet(out / "whole.parquet", index=False)
print(len(frame))
"""


def pg_base() -> str:
    address = os.environ.get("RETRAIN_BENCH_PG") or os.environ.get("RETRAIN_TEST_PG") or "127.0.0.1:5432"
    return f"postgresql+psycopg://postgres@{address}/test"


def fill(url: str, rows: int) -> None:
    """1M rows server-side (generate_series), so filling costs seconds and no client memory."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE events AS SELECT "
            "timestamptz '2024-01-01' + (i * interval '864 milliseconds') * (1000000.0 / %(rows)s) AS ts, "
            "i AS id, random() AS a, random() * 100 AS b, (random() * 1000)::int AS c, random() AS d, "
            "md5(i::text) AS e, (ARRAY['red','green','blue'])[1 + i %% 3] AS f, (i %% 2) AS label "
            "FROM generate_series(0, %(last)s) AS i",
            {"rows": rows, "last": rows - 1},
        )
    engine.dispose()


def measure(script: str, url: str) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="retrain-sql-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script, url, str(out)], env=env, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"bench child failed ({status})")
    rows = int(child.stdout.read().strip()) if child.stdout else 0
    subprocess.run(["rm", "-rf", str(out)], check=False)
    return {"wall": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "rows": rows}


def run(rows: int, reps: int) -> dict:
    import sqlalchemy as sa

    schema = f"retrain_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_base())
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{pg_base()}?options=-csearch_path%3D{schema}"
    try:
        fill(url, rows)
        modes = {"chunked_slices": CHUNKED, "read_sql_whole": WHOLE}
        samples: dict[str, list] = {mode: [] for mode in modes}
        for i in range(reps):
            for mode in list(modes) if i % 2 == 0 else list(reversed(modes)):
                samples[mode].append(measure(modes[mode], url))
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
    summary = {
        mode: {
            "wall_median": round(statistics.median(r["wall"] for r in runs), 3),
            "peak_rss_mb_median": round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
            "rows": runs[0]["rows"],
        }
        for mode, runs in samples.items()
    }
    chunked, whole = summary["chunked_slices"], summary["read_sql_whole"]
    return {
        "rows": rows,
        "reps": reps,
        **machine(),
        "summary": summary,
        "samples": samples,
        "ratio_wall": round(chunked["wall_median"] / whole["wall_median"], 2),
        "ratio_peak_rss": round(chunked["peak_rss_mb_median"] / whole["peak_rss_mb_median"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    result = run(args.rows, max(1, args.reps))
    path = write_result("sql", result)
    print("| mode | wall s (median) | peak RSS MB (median) | rows |\n| --- | --- | --- | --- |")
    for mode, row in result["summary"].items():
        print(f"| {mode} | {row['wall_median']} | {row['peak_rss_mb_median']} | {row['rows']} |")
    print(f"chunked / whole: wall {result['ratio_wall']}x, peak memory {result['ratio_peak_rss']}x; written to {path}")


if __name__ == "__main__":
    main()
