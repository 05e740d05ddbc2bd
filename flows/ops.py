"""Rollback and manual promotion as flows, so a person can run them from the Prefect UI.

Both go through the promotion ledger exactly like the CLI; the flow adds typed parameters
(a form in the UI), logging and a short artifact saying what moved.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows.common import artifact_key


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

    result = rollback(
        locate(model, config_path),
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

    result = promote(
        locate(model, config_path),
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
    return result.to_dict()
