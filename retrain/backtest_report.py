"""Show a backtest: a table per step, the totals per policy, and a plot of the metric over time.

The plot is what a person compares thresholds with: the metric each policy's model reached
on the next batch, with the policy's retrains and promotions marked where they happened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render_backtest(result: dict[str, Any], out: Any) -> None:
    """The step table, then the totals; ``out`` is a rich console."""
    from rich.table import Table

    metric = result["metric"]
    table = Table(
        "batch",
        "validation",
        "trigger",
        "decision",
        "champion",
        "next batch",
        f"policy {metric}",
        "never retrain",
        "always retrain",
        title=f"backtest of {result['model']}: {metric} of each policy's model on the next batch",
    )
    for s in result["steps"]:
        table.add_row(
            s["batch"],
            s["validation"],
            s["trigger"],
            s["decision"],
            f"v{s['champion_version']}" if s.get("champion_version") else "-",
            (s.get("next_batch") or "-").removesuffix(".csv"),
            fmt(s.get("policy_next")),
            fmt(s.get("never_next")),
            fmt(s.get("always_next")),
        )
    out.print(table)
    totals = Table("policy", "retrains", "promotions", f"mean next-batch {metric}", title="totals")
    for name, t in result["totals"].items():
        totals.add_row(name.replace("_", " "), str(t["retrains"]), str(t["promotions"]), fmt(t["mean_next"]))
    out.print(totals)
    if result.get("plot"):
        out.print(f"plot: {result['plot']}")


def plot_backtest(result: dict[str, Any], path: Path) -> Path:
    """A PNG of the next-batch metric per policy, retrains and promotions marked."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in CI
    import matplotlib.pyplot as plt

    steps = [s for s in result["steps"] if s.get("next_batch")]
    labels = [f"{s['batch']} → {s['next_batch'].rsplit('.', 1)[0]}" for s in steps]
    x = list(range(len(steps)))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 * len(steps) + 3), 5.5))
    for key, name, style in (
        ("policy_next", "policy", "-o"),
        ("never_next", "never retrain", "--"),
        ("always_next", "always retrain", ":"),
    ):
        ax.plot(x, [s.get(key) for s in steps], style, label=name)
    marks = (
        ("retrain", lambda s: s["decision"] not in ("no retrain", "data_invalid"), "^", "tab:orange"),
        ("promotion", lambda s: s["decision"] == "promoted", "*", "tab:green"),
    )
    for name, chosen, marker, colour in marks:
        picked = [
            (i, s["policy_next"])
            for i, s in zip(x, steps, strict=True)
            if chosen(s) and s.get("policy_next") is not None
        ]
        if picked:
            ax.scatter(
                [p[0] for p in picked], [p[1] for p in picked], marker=marker, s=140, color=colour, zorder=3, label=name
            )
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_xlabel("step → next valid batch, scored")
    ax.set_ylabel(result["metric"])
    ax.set_title(f"backtest of {result['model']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fmt(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"
