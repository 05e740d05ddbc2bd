"""Rollback, manual promotion and quarantine release as flows, run from the Prefect UI.

Each goes through the same logic as the CLI (the promotion ledger, ``monitoring.quarantine``);
the flow adds typed parameters (a form in the UI), logging and a short artifact saying what
changed.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from base.vocabulary import DecisionEvent
from flows.common import artifact_key
from flows.decision_events import announce_move


def locate(model: str, config_path: str | None):
    """State from the model's config when given, else from RETRAIN_HOME / env URIs."""
    from base.settings import load_config, store_urls
    from registry.ledger import Stores

    if config_path:
        return load_config(config_path)
    return Stores(*store_urls())


def publish_move(result, title: str) -> None:
    d = result.to_dict()
    lines = [
        f"# {title}: {d['model']}",
        "",
        f"- champion: v{d['from_version'] or '-'} → **v{d['to_version']}**" + ("" if d["changed"] else " (unchanged)"),
        f"- reason: {d['reason'] or '-'}",
        f"- actor: {d['actor']}",
        f"- at: {d['at']}",
    ]
    lines += [f"- warning: {w}" for w in d["warnings"]]
    lines += [f"- reconciled: {n['message']}" for n in d["reconciled"]]
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key(d["model"], title))


def actor_for_ui() -> str:
    from base.environment import actor

    return f"{actor()} via prefect flow run {flow_run.get_id() or '-'}"


@flow(name="rollback")
def rollback_flow(
    model: str,
    reason: str = "rolled back from the Prefect UI",
    to_version: int | None = None,
    expect_current: int | None = None,
    hold: bool = False,
    config_path: str | None = None,
) -> dict:
    """Put the previous champion back (or ``to_version``); refuse if ``expect_current`` is stale.

    The version taken away is blocked for automatic promotions; ``hold`` freezes them all
    until the model is released (``retrain release``).
    """
    from registry.promotion import rollback

    stores = locate(model, config_path)
    result = rollback(
        stores,
        None,
        model,
        to=to_version,
        reason=reason,
        actor=actor_for_ui(),
        expect_current=None if expect_current is None else str(expect_current),
        run_id=str(flow_run.get_id() or ""),
        hold=hold,
    )
    get_run_logger().info("champion of %s: v%s -> v%s", model, result.from_version, result.to_version)
    publish_move(result, "rollback")
    if result.changed:
        announce_move(DecisionEvent.ROLLED_BACK, result.to_dict(), stores.tracking_uri)
    return result.to_dict()


@flow(name="promote")
def promote_flow(
    model: str,
    version: int,
    reason: str,
    expect_current: int | None = None,
    config_path: str | None = None,
) -> dict:
    """Manually make ``version`` the champion, through the same ledger as every promotion."""
    from registry.promotion import promote

    stores = locate(model, config_path)
    result = promote(
        stores,
        None,
        model,
        version,
        reason=reason,
        actor=actor_for_ui(),
        expect_current=None if expect_current is None else str(expect_current),
        run_id=str(flow_run.get_id() or ""),
    )
    get_run_logger().info("champion of %s: v%s -> v%s", model, result.from_version, result.to_version)
    publish_move(result, "promote")
    if result.changed:
        announce_move(DecisionEvent.PROMOTED, result.to_dict(), stores.tracking_uri)
    return result.to_dict()


@flow(name="quarantine-release")
def quarantine_release_flow(model: str, batch: str, reason: str, widen: bool = False, config_path: str = "") -> dict:
    """Put a quarantined batch back for the next run; ``widen`` also widens the suite to admit it."""
    from base.settings import load_config
    from monitoring.quarantine import QuarantineError, release_batch

    config = load_config(config_path)
    if config.name != model:
        raise QuarantineError(f"{config_path} configures model {config.name!r}, not {model!r}")
    result = release_batch(config, batch, reason, actor_for_ui(), widen)
    d = result.to_dict()
    lines = [
        f"# quarantine release: {model}",
        "",
        f"- batch: `{d['batch']}` → `{d['restored_to']}` (trained on by the next run)",
        f"- reason: {reason}",
        f"- actor: {d['release']['actor']}",
    ]
    widening = d["widening"] or {}
    lines += [f"- suite v{widening.get('version')}: {change}" for change in widening.get("changes", [])]
    lines += [f"- not widened (accepted for this content only): {m}" for m in widening.get("not_widened", [])]
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key(model, "quarantine-release"))
    get_run_logger().info("released %s of %s from quarantine", d["batch"], model)
    return d
