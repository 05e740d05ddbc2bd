"""Follow ``champion`` (and, with ``serving.shadow``, ``challenger``) while serving.

A background thread reads the aliases every ``serving.endpoint.poll_seconds`` (20 s by
default, at most 60): a promotion, a rollback or an alias moved in the MLflow UI is served
within one poll plus the time to load the new version. The new version is loaded and warmed on
reference rows first; only then is the ``Serving`` reference replaced, whole, in one
assignment, so a request that already took the old one finishes on it and the next takes
the new one. A version that does not load (or fails on its reference rows) is never switched
to: the failure is logged once, the old version keeps answering, and the next poll tries again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from base.vocabulary import CHALLENGER, CHAMPION
from serving.live import Serving, known_columns, now_text, warm
from serving.served_model import LoadedModel, load_scoring_model

if TYPE_CHECKING:
    from base.settings import ModelConfig

LOG = logging.getLogger(__name__)


@dataclass
class FollowStatus:
    """What the follower saw last: for ``/health`` and the log."""

    polls: int = 0
    last_poll: str = ""
    switches: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # version -> why it was not switched to


class ChampionFollower:
    """Holds the current ``Serving``; ``poll_once`` moves it when an alias moved and the new version loads."""

    def __init__(self, config: "ModelConfig") -> None:
        self.config = config
        self.poll_seconds = config.serving.endpoint.poll_seconds
        self.status = FollowStatus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retrain-follow-champion", daemon=True)
        champion = self._ready(load_scoring_model(self.config, None, CHAMPION))
        challenger = self._load_challenger(champion.version) if config.serving.shadow else None
        self.current = Serving(champion, challenger, known_columns(config, champion), now_text())

    def start(self) -> "ChampionFollower":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll_once()
            except Exception as exc:  # a registry that does not answer this once: keep serving, poll again
                LOG.warning("reading the aliases of %s failed: %s", self.config.name, exc)

    def poll_once(self) -> Serving:
        """Read the aliases; switch to what they name when it loads and warms."""
        from registry.store import connect
        from registry.versions import get_version

        client = connect(self.config)
        self.status.polls += 1
        self.status.last_poll = now_text()
        info = get_version(client, self.config.name, CHAMPION)
        serving = self.current
        if info is not None and str(info.version) != serving.champion.version:
            champion = self._try_load(str(info.version))
            if champion is not None:
                serving = Serving(champion, serving.challenger, known_columns(self.config, champion), now_text())
        if self.config.serving.shadow:
            serving = self._follow_challenger(client, serving)
        if serving is not self.current:
            self.current = serving  # one assignment: a request in flight keeps the object it took
        return serving

    def _follow_challenger(self, client: Any, serving: Serving) -> Serving:
        from registry.versions import get_version

        info = get_version(client, self.config.name, CHALLENGER)
        wanted = None if info is None or str(info.version) == serving.champion.version else str(info.version)
        held = None if serving.challenger is None else serving.challenger.version
        if wanted == held:
            return serving
        challenger = None if wanted is None else self._try_load(wanted)
        if wanted is not None and challenger is None:
            return serving
        return replace(serving, challenger=challenger)

    def _try_load(self, version: str) -> LoadedModel | None:
        try:
            loaded = self._ready(load_scoring_model(self.config, version))
        except Exception as exc:  # any failure to load or warm: never switch to it
            why = f"{type(exc).__name__}: {str(exc)[:300]}"
            if self.status.refused.get(version) != why:
                LOG.error("%s v%s does not load; still serving the old version: %s", self.config.name, version, why)
            self.status.refused[version] = why
            return None
        self.status.refused.pop(version, None)
        self.status.switches.append(f"{now_text()} v{version}")
        LOG.warning("%s: now serving v%s", self.config.name, version)
        return loaded

    def _ready(self, loaded: LoadedModel) -> LoadedModel:
        note = warm(self.config, loaded, self.config.serving.endpoint.warm_rows)
        LOG.info("%s", note)
        return loaded

    def _load_challenger(self, champion_version: str) -> LoadedModel | None:
        from serving.shadow import load_challenger

        challenger = load_challenger(self.config, champion_version)
        return None if challenger is None else self._ready(challenger)
