"""Shadow evaluation: the challenger scores every row beside the champion, and is judged on live labels.

With ``serving.shadow`` the challenger's answer to each row is logged in the same row of the
prediction log (``shadow_version``, ``shadow_prediction``, ``shadow_score``,
``shadow_confidence``), never returned and never routed: only the champion's answer counts.
Logs written before shadowing existed simply lack the columns. Once labels come back, both
models are compared on the same labelled rows with the gate's paired bootstrap, so live
traffic, not only one holdout month, says whether the challenger is better.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from base.vocabulary import CHALLENGER
from serving.calibration import CONFIDENCE, PREDICTION, SCORE, VERSION, scored_frame
from serving.live_figures import TRUTH, live_metric
from serving.served_model import LoadedModel, load_scoring_model, model_columns
from training.label_text import label_text

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from training.types import BootstrapResult

LOG = logging.getLogger(__name__)
SHADOW = "shadow_"
SHADOW_COLUMNS = [SHADOW + c for c in (VERSION, PREDICTION, SCORE, CONFIDENCE)]


@dataclass(frozen=True)
class ShadowComparison:
    """Champion and challenger on the same labelled live rows; ``bootstrap`` is challenger − champion."""

    champion_version: str
    challenger_version: str
    metric: str
    labelled_rows: int
    batches: int
    champion_metric: float | None
    challenger_metric: float | None
    bootstrap: "BootstrapResult | None"

    @property
    def verdict(self) -> str:
        from training.bootstrap import describe_interval

        if self.bootstrap is None:
            return "no interval (too few labelled rows)"
        return describe_interval(self.bootstrap).replace("candidate", "challenger")

    def summary(self) -> str:
        show = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
        interval = "" if self.bootstrap is None else f" [{self.bootstrap.low:+.4f}, {self.bootstrap.high:+.4f}]"
        return (
            f"shadow: challenger v{self.challenger_version} {self.metric} {show(self.challenger_metric)} vs champion "
            f"v{self.champion_version} {show(self.champion_metric)} on {self.labelled_rows} labelled rows of "
            f"{self.batches} batch(es){interval}: {self.verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        from training.types import to_jsonable

        data = {k: v for k, v in self.__dict__.items() if k != "bootstrap"}
        bootstrap = None if self.bootstrap is None else self.bootstrap.to_dict()
        return to_jsonable({**data, "bootstrap": bootstrap, "verdict": self.verdict})


def load_challenger(config: "ModelConfig", champion_version: str) -> LoadedModel | None:
    """The version behind ``challenger``; None when there is none, it is the champion, or it cannot load."""
    from registry.store import connect
    from registry.versions import get_version

    info = get_version(connect(config), config.name, CHALLENGER)
    if info is None or str(info.version) == str(champion_version):
        return None
    try:
        return load_scoring_model(config, str(info.version))
    except Exception as exc:  # a broken challenger must never stop the champion's scoring
        LOG.warning(
            "shadow: challenger v%s of %s does not load (%s); rows logged without it", info.version, config.name, exc
        )
        return None


def shadow_rows(
    config: "ModelConfig", challenger: LoadedModel | None, frame: pd.DataFrame, rows: pd.DataFrame
) -> pd.DataFrame:
    """``rows`` with the challenger's answer beside each; unchanged when there is no challenger."""
    from training.metrics import predict_outputs

    if challenger is None:
        return rows
    try:
        outputs = predict_outputs(config.task, challenger.model, frame[model_columns(challenger.model, frame, config)])
    except Exception as exc:  # the challenger's failure is its own: the champion's answer stands
        LOG.warning("shadow: challenger v%s could not score (%s)", challenger.version, exc)
        return rows
    theirs = scored_frame(config.task, rows["id"], outputs, challenger.calibration, challenger.version)
    return rows.assign(**{SHADOW + c: theirs[c].to_numpy() for c in (VERSION, PREDICTION, SCORE, CONFIDENCE)})


def compare_shadow(config: "ModelConfig", joined: pd.DataFrame) -> ShadowComparison | None:
    """The latest challenger against the champion(s) that answered the same labelled rows; None without shadow rows."""
    if SHADOW + VERSION not in joined.columns:
        return None
    shadowed = joined[joined[SHADOW + VERSION].notna()]
    if shadowed.empty:
        return None
    latest = shadowed.sort_values("scored_at")[SHADOW + VERSION].iloc[-1]
    mine = shadowed[shadowed[SHADOW + VERSION] == latest]
    known = mine[mine[TRUTH].notna()]
    theirs = known.assign(**{c: known[SHADOW + c] for c in (PREDICTION, SCORE)})
    metric = config.primary_metric
    champion = ",".join(sorted(known[VERSION].astype(str).unique())) or str(mine[VERSION].iloc[-1])
    return ShadowComparison(
        champion_version=champion,
        challenger_version=str(latest),
        metric=metric,
        labelled_rows=len(known),
        batches=int(known["batch"].nunique()) if "batch" in known.columns else 0,  # batches with labels
        champion_metric=live_metric(config.task, metric, known),
        challenger_metric=live_metric(config.task, metric, theirs),
        bootstrap=paired_live_bootstrap(config, known) if len(known) >= 2 else None,
    )


def paired_live_bootstrap(config: "ModelConfig", known: pd.DataFrame) -> "BootstrapResult":
    """The gate's paired bootstrap of (challenger − champion) over the labelled rows both answered."""
    from training.bootstrap import paired_bootstrap
    from training.types import Outputs

    task, boot = config.task, config.gate.bootstrap
    if task == "binary":
        y = (label_text(known[TRUTH]) == label_text(known["positive_label"])).to_numpy().astype(float)
        sides = [Outputs(known[c].astype(float).to_numpy(), np.array([0.0, 1.0])) for c in (SCORE, SHADOW + SCORE)]
    elif task == "regression":
        y = known[TRUTH].astype(float).to_numpy()
        sides = [Outputs(known[c].astype(float).to_numpy()) for c in (PREDICTION, SHADOW + PREDICTION)]
    else:
        y = np.asarray(label_text(known[TRUTH]))
        said = [np.asarray(label_text(known[c])) for c in (PREDICTION, SHADOW + PREDICTION)]
        space = np.unique(np.concatenate([y, *said]))
        sides = [Outputs((s[:, None] == space[None, :]).astype(float), space) for s in said]
    return paired_bootstrap(
        task, config.primary_metric, y, sides[1], sides[0], boot.resamples, boot.confidence, boot.seed
    )
