"""Where the test suite's time goes, per file, and what two workers make of it.

The machine is shared, so running the whole suite twice to compare two orderings is slow
and noisy. Instead: run the suite (or parts of it, one after the other) once without xdist
with ``--durations=0``, save the outputs, and give them to this script. It adds up setup,
call and teardown per test file (the unit ``--dist loadfile`` hands to a worker), lists the
costliest files and tests, and replays xdist's ``loadfile`` scheduling on N workers for the
order xdist uses by default (files with the most tests first) and for the collection order
(``--no-loadscope-reorder``). The replay ignores CPU contention between the workers and
the per-worker session fixtures, so it ranks orderings; it does not predict the wall time.

    .ci/with-test-services .venv/bin/python -m pytest tests/integration/runtime \\
        --durations=0 -q > /tmp/durations-runtime.txt
    .venv/bin/python bench/suite_times.py /tmp/durations-*.txt --workers 2
"""

from __future__ import annotations

import argparse
import heapq
import re
import signal
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LINE = re.compile(r"^(?P<seconds>[0-9.]+)s (?P<phase>setup|call|teardown)\s+(?P<node>\S.*)$")


@dataclass
class FileCost:
    """The summed phases of one test file, and how many tests it holds."""

    path: str
    seconds: float = 0.0
    tests: set[str] = field(default_factory=set)
    order: int = 0


def read_durations(paths: list[Path]) -> tuple[dict[str, FileCost], list[tuple[float, str]]]:
    """Per-file costs and every (seconds, phase + test) from ``--durations=0`` outputs."""
    files: dict[str, FileCost] = {}
    rows: list[tuple[float, str]] = []
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            match = LINE.match(line.strip())
            if match is None:
                continue
            node, seconds = match["node"], float(match["seconds"])
            name = node.split("::", 1)[0]
            cost = files.setdefault(name, FileCost(name, order=len(files)))
            cost.seconds += seconds
            cost.tests.add(node)
            rows.append((seconds, f"{match['phase']:8} {node}"))
    return files, rows


def replay(files: list[FileCost], workers: int) -> float:
    """The makespan of handing files to the first free worker, two files per worker at the start."""
    queue = list(files)
    finish = [0.0] * workers
    for _ in range(2):
        for worker in range(workers):
            if queue:
                finish[worker] += queue.pop(0).seconds
    heap = [(end, worker) for worker, end in enumerate(finish)]
    heapq.heapify(heap)
    while queue:
        end, worker = heapq.heappop(heap)
        heapq.heappush(heap, (end + queue.pop(0).seconds, worker))
    return max(end for end, _ in heap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", nargs="+", type=Path, help="saved pytest --durations=0 outputs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # piped into head: end quietly
    files, rows = read_durations(args.outputs)
    total = sum(f.seconds for f in files.values())
    print(f"{len(files)} files, {sum(len(f.tests) for f in files.values())} tests, {total:.0f} s in one process\n")
    print("costliest files:")
    for cost in sorted(files.values(), key=lambda f: -f.seconds)[: args.top]:
        print(f"  {cost.seconds:7.1f} s  {len(cost.tests):3} tests  {cost.path}")
    print("\ncostliest phases:")
    for seconds, what in sorted(rows, reverse=True)[: args.top]:
        print(f"  {seconds:7.1f} s  {what}")
    by_collection = sorted(files.values(), key=lambda f: f.path)
    by_count = sorted(by_collection, key=lambda f: -len(f.tests))  # xdist's default (stable sort)
    longest_first = sorted(by_collection, key=lambda f: -f.seconds)
    per_directory: dict[str, float] = defaultdict(float)
    for cost in files.values():
        per_directory[str(Path(cost.path).parent)] += cost.seconds
    print("\nper directory:")
    for directory, seconds in sorted(per_directory.items(), key=lambda item: -item[1]):
        print(f"  {seconds:7.1f} s  {directory}")
    print(f"\nreplayed --dist loadfile on {args.workers} workers (no contention, a lower bound):")
    print(f"  default (most tests first)         {replay(by_count, args.workers):7.0f} s")
    print(f"  --no-loadscope-reorder (collected)  {replay(by_collection, args.workers):7.0f} s")
    print(f"  longest file first (ideal order)    {replay(longest_first, args.workers):7.0f} s")
    print(f"  perfect split                       {total / args.workers:7.0f} s")


if __name__ == "__main__":
    main()
