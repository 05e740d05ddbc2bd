"""The fleet: one row per registered model, for ``retrain status`` without a model and the UI.

A team looking after dozens of models needs one table that says which need a look: who is
champion and challenger, how good the champion is, when the last retrain ended and how, what
the last drift check said, and any hold or warning. Everything comes from the stores every
entry point already reaches (the registry and the ledger); the next scheduled run comes from
Prefect, so the caller passes it in when a server answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from registry.approvals import outcome_of
from registry.store import MONITORING_SUFFIX, experiment_name

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import StoreLocation

TRIGGER_TAG = "retrain.trigger"


@dataclass(frozen=True)
class FleetRow:
    """What the fleet view shows about one model."""

    model: str
    champion: str | None
    challenger: str | None
    versions: int
    metric: str | None = None
    champion_score: float | None = None
    last_retrain: dict[str, Any] | None = None  # version, when, trigger, outcome
    last_drift: dict[str, Any] | None = None  # when, verdict, champion_version
    next_run: str | None = None
    hold: bool = False
    running: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fleet_models(client: "MlflowClient", stores: "StoreLocation") -> list[str]:
    """Every model the registry or the ledger knows, sorted by name."""
    from registry.ledger import open_ledger
    from registry.tables import promotions

    names = {m.name for m in client.search_registered_models(max_results=1000)}
    ledger = open_ledger(stores.ledger_url)
    with ledger.engine.connect() as conn:
        names |= {row[0] for row in conn.execute(promotions.select().with_only_columns(promotions.c.model).distinct())}
    return sorted(names)


def _when(millis: int | str | None) -> str | None:
    if millis in (None, ""):
        return None
    if isinstance(millis, str) and not millis.isdigit():
        return millis
    return datetime.fromtimestamp(int(millis) / 1000, UTC).isoformat(timespec="seconds")


def last_retrain(client: "MlflowClient", model: str, latest: str | None) -> dict[str, Any] | None:
    """The newest registered candidate: when, what triggered it, what became of it."""
    if latest is None:
        return None
    version = client.get_model_version(model, latest)
    tags = dict(version.tags or {})
    created = getattr(version, "creation_timestamp", None)
    return {
        "version": str(latest),
        "when": _when(created),
        "trigger": tags.get(TRIGGER_TAG),
        "outcome": outcome_of(tags),
    }


def last_drift(client: "MlflowClient", model: str) -> dict[str, Any] | None:
    """The newest drift check of the model's monitoring experiment: when and what it found.

    The embedded store's view reads it straight from the SQLite file (no MLflow import).
    """
    name = experiment_name(model) + MONITORING_SUFFIX
    if hasattr(type(client), "latest_run_tags"):
        found = client.latest_run_tags(name)  # type: ignore[attr-defined]
        if found is None:
            return None
        started, tags = found
    else:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            return None
        runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
        if not runs:
            return None
        started, tags = runs[0].info.start_time, runs[0].data.tags
    return {
        "when": _when(started),
        "verdict": tags.get("retrain.signals", "none"),
        "batch": tags.get("retrain.batch"),
        "champion_version": tags.get("retrain.champion_version") or None,
    }


def fleet_row(
    stores: "StoreLocation", client: "MlflowClient", model: str, metric: str | None, next_run: str | None
) -> FleetRow:
    """One model's row; ``metric`` names the primary metric when a config says it."""
    from registry.audit import floor_warning, ledger_champion
    from registry.ledger import open_ledger
    from registry.verdicts import describe_guards
    from registry.versions import model_status

    status = model_status(client, model)
    champion = status.champion.version if status.champion else None
    guards = describe_guards(open_ledger(stores.ledger_url), model)
    warnings = floor_warning(client, model, champion, status.latest_version)
    recorded = ledger_champion(stores, model)
    if recorded != champion:
        warnings.append(f"MLflow's champion is {champion or 'none'} but the ledger's is {recorded or 'none'}")
    metrics = status.champion.metrics if status.champion else {}
    metric = metric or _primary_metric(status.champion.tags if status.champion else {})
    return FleetRow(
        model=model,
        champion=champion,
        challenger=status.challenger.version if status.challenger else None,
        versions=status.versions,
        metric=metric,
        champion_score=metrics.get(metric) if metric else None,
        last_retrain=last_retrain(client, model, status.latest_version),
        last_drift=last_drift(client, model),
        next_run=next_run,
        hold=guards["hold"] is not None,
        running=guards["running"] is not None,
        warnings=warnings,
    )


def _primary_metric(tags: dict[str, str]) -> str | None:
    """The metric the gate compared on, as the version records it."""
    return tags.get("gate.metric") or None


def fleet_table(
    stores: "StoreLocation", client: "MlflowClient", next_runs: dict[str, str] | None = None
) -> list[FleetRow]:
    """Every model's row, sorted by name."""
    upcoming = next_runs or {}
    return [fleet_row(stores, client, name, None, upcoming.get(name)) for name in fleet_models(client, stores)]


def fleet_markdown(rows: list[FleetRow]) -> str:
    """The table as Markdown, for the Prefect artifact and reports."""
    lines = [
        "| model | champion | challenger | metric | last retrain | last drift | next run | holds / warnings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        score = f"{r.metric}={r.champion_score:.4g}" if r.champion_score is not None else (r.metric or "-")
        retrain = "-"
        if r.last_retrain:
            lr = r.last_retrain
            retrain = f"v{lr['version']} {lr['when'] or ''} {lr['trigger'] or ''} {lr['outcome'] or ''}".strip()
        drift = f"{r.last_drift['verdict']} ({r.last_drift['when']})" if r.last_drift else "-"
        notes = (["on hold"] if r.hold else []) + (["retrain running"] if r.running else []) + r.warnings
        lines.append(
            f"| {r.model} | {r.champion or '-'} | {r.challenger or '-'} | {score} | {retrain} | {drift} | "
            f"{r.next_run or '-'} | {'; '.join(notes) or '-'} |"
        )
    return "\n".join(lines) + "\n"
