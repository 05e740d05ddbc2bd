"""Notifications through Prefect's own machinery: one block per destination, one automation per model.

``retrain serve`` and ``retrain deploy`` call :func:`setup_notifications`: each destination
of ``notifications.destinations`` becomes a Prefect notification block (saved under
``retrain-<kind>-<name>``, overwritten on every redeploy) and each model gets one automation
per destination (an ``EventTrigger`` on the model's subscribed events, a ``SendNotification``
action with ``base.notify_templates``' message), found by name and updated in place, and
removed when the destination leaves the config. The Prefect server renders and sends, so a
destination that is down fails that action in the automation's history and nothing else.

Blocks. A real Slack webhook (``hooks.slack.com``) is Prefect's ``SlackWebhook`` and a Teams
Workflows URL its ``MicrosoftTeamsWebhook``. Everything else goes through Apprise (what
Prefect's notification blocks send with) in the one core block that takes a raw Apprise URL,
``SlackWebhook`` (so the UI shows "Slack Webhook" for it): any other Slack or Teams URL (a
Slack-compatible relay, a legacy Teams hook) and a custom webhook as Apprise's ``json://``
POST (``{"text": ...}`` for chats, ``{"subject", "body", "source"}`` for a webhook), e-mail as
its ``mailto://`` (Prefect 3.8 has no SMTP block). Apprise reports a refused or unreachable
destination as a failed notification, which Prefect records as the automation's failed action
(``CustomWebhookNotificationBlock`` raises instead, and the failure never reaches that
history). The secret URL or password sits only in the block's ``SecretStr`` field, which the
Prefect server keeps encrypted and never shows.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from base.errors import Kind, RetrainError
from base.notify_templates import (
    AUTOMATION_TAG,
    SUBJECT,
    TEST_SUBJECT,
    automation_name,
    block_name,
    body_template,
    json_webhook_url,
    mailto_url,
    test_body,
    where,
)
from base.secrets import redact_text
from base.settings import ModelConfig
from base.settings_notifications import Destination, DestinationKind
from flows.common import model_resource_id

if TYPE_CHECKING:
    from prefect.blocks.abstract import NotificationBlock

SLACK_HOOK = re.compile(r"^https://hooks\.slack(?:-gov)?\.com/services/", re.I)
TIMEOUT_SECONDS = 10.0
PAGE = 200


class SecretMissing(RetrainError):
    """A destination's URL or password is not where the config says (unset variable, missing Secret block)."""

    kind = Kind.CONFIG


@dataclass(frozen=True)
class Built:
    """A destination's block, where it sends (no secret) and the secret values to keep out of output."""

    destination: Destination
    block: "NotificationBlock"
    where: str
    secrets: tuple[str, ...]


def read_secret(env: str | None, secret_block: str | None, field: str, destination: str) -> str | None:
    """The value of ``env`` or of the Prefect Secret block ``secret_block``; None when neither is named."""
    if env is not None:
        value = os.environ.get(env, "")
        if not value:
            message = f"notifications: destination {destination!r}: {field}_env {env} is not set"
            raise SecretMissing(message, field=field)
        return value
    if secret_block is not None:
        from prefect.blocks.system import Secret

        try:
            secret: Any = Secret.load(secret_block)  # sync here; Prefect types it as maybe-a-coroutine
            return str(secret.get())
        except ValueError:
            raise SecretMissing(
                f"notifications: destination {destination!r}: no Prefect Secret block {secret_block!r}", field=field
            ) from None
    return None


def build_block(destination: Destination) -> Built:
    """The Prefect notification block of one destination, its secret resolved."""
    from prefect.blocks.notifications import MicrosoftTeamsWebhook, SlackWebhook
    from pydantic import SecretStr

    kind = destination.kind
    if kind is DestinationKind.EMAIL:
        password = read_secret(destination.password_env, destination.password_secret, "password", destination.name)
        block: Any = SlackWebhook(url=SecretStr(mailto_url(destination, password)))  # the core block for an Apprise URL
        return Built(destination, block, where(destination), tuple(s for s in (password,) if s))
    url = read_secret(destination.url_env, destination.url_secret, "url", destination.name)
    assert url is not None  # the config names exactly one source for a URL
    if kind is DestinationKind.SLACK and SLACK_HOOK.match(url):
        block = SlackWebhook(url=SecretStr(url))
    elif kind is DestinationKind.TEAMS and is_teams_workflow(url):
        block = MicrosoftTeamsWebhook(url=SecretStr(url))
    else:  # a Slack-compatible relay, a legacy Teams hook or an incident tool: Apprise's JSON webhook
        chat = kind is not DestinationKind.WEBHOOK
        block = SlackWebhook(url=SecretStr(json_webhook_url(url, chat)))
    return Built(destination, block, where(destination, url), secret_parts(url, block.url.get_secret_value()))


def secret_parts(url: str, apprise_url: str) -> tuple[str, ...]:
    """What to blank in anything shown: both URLs, and the path and query values that carry the token."""
    parts = urlsplit(url)
    pieces = [url, apprise_url, parts.path, *(v for _, v in parse_qsl(parts.query))]
    return tuple(p for p in pieces if len(p) > 4 and p != "/")


def is_teams_workflow(url: str) -> bool:
    from apprise.plugins.workflows import NotifyWorkflows

    return bool(NotifyWorkflows.parse_native_url(url))


def destinations_of(configs: list[ModelConfig]) -> dict[str, Destination]:
    """Every destination by name; two models may share one only if they describe it alike."""
    found: dict[str, Destination] = {}
    for config in configs:
        for d in config.notifications.destinations:
            known = found.setdefault(d.name, d)
            if known.model_dump(exclude={"events"}) != d.model_dump(exclude={"events"}):
                raise RetrainError(
                    f"notifications: destination {d.name!r} is described differently by two configs "
                    f"(one is {config.config_path}); give one of them another name",
                    kind=Kind.CONFIG,
                    field="notifications.destinations",
                )
    return found


def prepare_notifications(configs: list[ModelConfig]) -> dict[str, Built]:
    """Every destination's block, its secret read: called before anything is registered, so a missing
    variable or Secret block stops ``serve``/``deploy`` with nothing half set up."""
    return {name: build_block(d) for name, d in destinations_of(configs).items()}


def setup_notifications(configs: list[ModelConfig], built: dict[str, Built] | None = None) -> list[dict[str, Any]]:
    """Create or update the blocks and automations of every model's destinations; what was set up."""
    built = prepare_notifications(configs) if built is None else built
    block_ids = {name: b.block.save(block_name(b.destination), overwrite=True) for name, b in built.items()}
    rows = []
    for config in configs:
        rows += sync_automations(config, block_ids, built)
    return rows


def automation_for(config: ModelConfig, destination: Destination, block_id: Any) -> Any:
    from prefect.automations import Automation, EventTrigger, Posture, SendNotification

    return Automation(
        name=automation_name(config.name, destination),
        description=f"Tell {destination.name} ({destination.kind}) about {config.name} (retrain serve/deploy)",
        tags=[AUTOMATION_TAG, f"model:{config.name}", f"destination:{destination.name}"],
        trigger=EventTrigger(
            expect=set(destination.events),
            match={"prefect.resource.id": model_resource_id(config.name)},
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[SendNotification(block_document_id=block_id, subject=SUBJECT, body=body_template(destination.kind))],
    )


def sync_automations(config: ModelConfig, block_ids: dict[str, Any], built: dict[str, Built]) -> list[dict[str, Any]]:
    """One automation per destination of ``config``, updated in place; those of removed destinations go."""
    from prefect import get_client

    rows = []
    wanted = {}
    with get_client(sync_client=True) as client:
        for d in config.notifications.destinations:
            automation = automation_for(config, d, block_ids[d.name])
            wanted[automation.name] = d
            existing = client.read_automations_by_name(automation.name)
            core = automation.model_dump(exclude={"id", "owner_resource"})  # as Automation.update sends it
            if existing:
                from prefect.events.schemas.automations import AutomationCore

                client.update_automation(existing[0].id, AutomationCore(**core))
                for extra in existing[1:]:
                    client.delete_automation(extra.id)
                automation_id, action = existing[0].id, "updated"
            else:
                automation_id, action = automation.create().id, "created"
            rows.append(
                {
                    "model": config.name,
                    "destination": d.name,
                    "kind": str(d.kind),
                    "where": built[d.name].where,
                    "events": list(d.events),
                    "automation": automation.name,
                    "automation_id": str(automation_id),
                    "block": block_name(d),
                    "action": action,
                }
            )
        for stale in all_automations(client):
            if set(stale.tags) >= {AUTOMATION_TAG, f"model:{config.name}"} and stale.name not in wanted:
                client.delete_automation(stale.id)
    return rows


def all_automations(client: Any) -> list[Any]:
    """Every automation on the server, page by page (the sync client needs sort and limit spelled out)."""
    found: list[Any] = []
    while True:
        page = client.read_automations(sort="NAME_ASC", limit=PAGE, offset=len(found))
        found += page
        if len(page) < PAGE:
            return found


@dataclass(frozen=True)
class DestinationCheck:
    """Whether one destination took the test message, and how long it took."""

    destination: str
    kind: str
    where: str
    answered: bool
    seconds: float
    error: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def send_test(config: ModelConfig) -> list[DestinationCheck]:
    """Send one test message to every destination of ``config``, with the very block ``serve`` saves."""
    checks = []
    for d in config.notifications.destinations:
        checks.append(check_destination(config.name, d))
    return checks


def check_destination(model: str, destination: Destination) -> DestinationCheck:
    built = build_block(destination)
    start = time.monotonic()
    error = ""
    block: Any = built.block  # ``notify`` is sync here; Prefect types it as maybe-a-coroutine
    try:
        with block.raise_on_failure():
            block.notify(test_body(model, list(destination.events)), TEST_SUBJECT.format(model=model))
    except Exception as exc:  # any failure of a destination is reported, never raised: the others still get theirs
        said = " ".join(f"{type(exc).__name__}: {exc} {getattr(exc, 'log', '') or ''}".split())
        error = redact_text(said, list(built.secrets))[:500]
    return DestinationCheck(
        destination.name, str(destination.kind), built.where, not error, round(time.monotonic() - start, 3), error
    )
