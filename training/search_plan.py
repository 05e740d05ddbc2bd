"""Which trial runs next: Optuna's ask/tell over the search's candidates, within the budget.

The candidate is one categorical choice and each candidate's distributions are its own
parameters, so Optuna's TPE sampler learns which family and which settings score well as
results come back. Trials are asked one at a time as workers free up, not in rounds. The
`estimator` section (trial 0, when included) and the first setting of every family are
queued first; a space small enough for the budget is queued whole (a grid, in order). A
setting already tried is never run twice: the planner asks again, and stops when the
space is exhausted.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from base.settings_search import SearchCandidate, is_distribution
from training.search_types import TrialResult, TrialSpec, TrialStatus

if TYPE_CHECKING:
    import optuna

    from base.settings import ModelConfig

REPEAT_ASKS = 25  # asks that may return an already-tried setting before the space counts as exhausted
GRID_LIMIT = 10_000  # settings enumerated at most when checking whether the space fits the budget


def candidates_of(config: "ModelConfig") -> list[SearchCandidate]:
    """The search's candidates, the `estimator` section first when included."""
    assert config.search is not None
    own = [SearchCandidate(class_path=config.estimator.class_path, params=config.estimator.params)]
    return (own if config.search.include_estimator else []) + list(config.search.candidates)


class SearchPlan:
    """Asks Optuna for trial specs until the trial budget, the time budget or the space runs out."""

    def __init__(self, config: "ModelConfig", higher_is_better: bool) -> None:
        import optuna

        assert config.search is not None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.search = config.search
        self.candidates = candidates_of(config)
        sampler = optuna.samplers.TPESampler(seed=self.search.seed)
        self.study = optuna.create_study(direction="maximize" if higher_is_better else "minimize", sampler=sampler)
        self.started = time.monotonic()
        self.specs: list[TrialSpec] = []
        self.pending: dict[int, optuna.trial.Trial] = {}
        self.exhausted = False
        self._queue_first_settings()

    @property
    def timed_out(self) -> bool:
        limit = self.search.timeout_seconds
        return limit is not None and time.monotonic() - self.started >= limit

    @property
    def stopped_by(self) -> str:
        if self.exhausted:
            return "space"
        return "timeout" if self.timed_out and len(self.specs) < self.search.trials else "trials"

    def ask(self) -> TrialSpec | None:
        """The next trial to run, or None when a budget is spent or every setting was tried."""
        if self.exhausted or len(self.specs) >= self.search.trials or self.timed_out:
            return None
        from optuna.trial import TrialState

        for _ in range(REPEAT_ASKS):
            trial = self.study.ask()
            spec = self._spec_of(trial, len(self.specs))
            if not any(spec.same_setting(done) for done in self.specs):
                self.specs.append(spec)
                self.pending[spec.number] = trial
                return spec
            self.study.tell(trial, state=TrialState.PRUNED)
        self.exhausted = True
        return None

    def tell(self, result: TrialResult) -> None:
        """Report a trial back to the sampler (failed trials count as failed)."""
        from optuna.trial import TrialState

        trial = self.pending.pop(result.spec.number)
        if result.status is TrialStatus.COMPLETE and result.mean_score is not None:
            self.study.tell(trial, result.mean_score)
        else:
            self.study.tell(trial, state=TrialState.FAIL)

    def _spec_of(self, trial: "optuna.trial.Trial", number: int) -> TrialSpec:
        index = trial.suggest_categorical("candidate", list(range(len(self.candidates))))
        assert isinstance(index, int)
        candidate = self.candidates[index]
        params = {name: _sample(trial, f"c{index}.{name}", value) for name, value in candidate.params.items()}
        sampled = tuple(name for name, value in candidate.params.items() if is_distribution(value))
        return TrialSpec(number, index, candidate.class_path, params, sampled)

    def _queue_first_settings(self) -> None:
        """Trial 0 the `estimator`, then one setting per family, or the whole grid if it fits the budget."""
        grid = _grid(self.candidates)
        if grid is not None and len(grid) <= self.search.trials:
            for setting in grid:
                self.study.enqueue_trial(setting)
            return
        for index, candidate in enumerate(self.candidates):
            self.study.enqueue_trial({"candidate": index, **_first_choices(index, candidate)})


def _sample(trial: "optuna.trial.Trial", name: str, value: Any) -> Any:
    """A fixed value as is; a distribution through Optuna's ``suggest_*``."""
    if not is_distribution(value):
        return value
    if "choices" in value:
        return _choice(trial, name, value["choices"])
    low, high, log, step = value["low"], value["high"], bool(value.get("log", False)), value.get("step")
    if isinstance(low, int) and isinstance(high, int) and (step is None or isinstance(step, int)):
        return trial.suggest_int(name, low, high, step=step or 1, log=log)
    return trial.suggest_float(name, float(low), float(high), step=step, log=log)


def _choice(trial: "optuna.trial.Trial", name: str, choices: list[Any]) -> Any:
    """Optuna's categorical takes None, bool, int, float and str; anything else is chosen by position."""
    if all(c is None or isinstance(c, (bool, int, float, str)) for c in choices):
        return trial.suggest_categorical(name, choices)
    return choices[trial.suggest_categorical(f"{name}#", list(range(len(choices))))]


def _first_choices(index: int, candidate: SearchCandidate) -> dict[str, Any]:
    """A family's first setting: the first of each choice list; ranges are left to the sampler."""
    out: dict[str, Any] = {}
    for name, value in candidate.params.items():
        if is_distribution(value) and "choices" in value:
            key = f"c{index}.{name}"
            simple = all(c is None or isinstance(c, (bool, int, float, str)) for c in value["choices"])
            out[key if simple else f"{key}#"] = value["choices"][0] if simple else 0
    return out


def _grid(candidates: list[SearchCandidate]) -> list[dict[str, Any]] | None:
    """Every setting when all distributions are choice lists (a finite space), else None."""
    settings: list[dict[str, Any]] = []
    for index, candidate in enumerate(candidates):
        axes = []
        for name, value in candidate.params.items():
            if not is_distribution(value):
                continue
            if "choices" not in value:
                return None
            simple = all(c is None or isinstance(c, (bool, int, float, str)) for c in value["choices"])
            key = f"c{index}.{name}" if simple else f"c{index}.{name}#"
            axes.append([(key, c if simple else i) for i, c in enumerate(value["choices"])])
        for combo in itertools.product(*axes):
            settings.append({"candidate": index, **dict(combo)})
            if len(settings) > GRID_LIMIT:
                return None
    return settings
