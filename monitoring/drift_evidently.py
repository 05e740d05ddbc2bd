"""Evidently adapters: each column's drift distance, and the HTML report people read.

Why two paths. ``Report.run`` builds plotly figures for every column (62 % of a drift check
measured at 1M x 20 rows) and the HTML page (6 %), which only the drift flow stores. So the
check takes its distances straight from Evidently's calculation layer (the stat tests
``ValueDrift`` itself calls: normed Wasserstein, Jensen-Shannon) and renders nothing; the
flow asks for the page once, when it logs it to MLflow, from the same compared rows and with
each column's calibrated threshold, so the page's verdicts are the check's verdicts.

Results come back as plain floats or strings, read by column name. Evidently is imported
inside the functions: its import costs about 5 s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from monitoring.drift_types import DriftReport


def measure_distance(reference: "pd.Series", current: "pd.Series", column_type: str, method: str) -> float:
    """Evidently's distance between the non-null values of one column on the two sides."""
    from evidently.legacy.calculations.stattests import jensenshannon_stat_test, wasserstein_stat_test
    from evidently.legacy.core import ColumnType

    tests = {"wasserstein": wasserstein_stat_test, "jensenshannon": jensenshannon_stat_test}
    kind = ColumnType.Numerical if column_type == "numerical" else ColumnType.Categorical
    return float(tests[method](reference, current, kind, None).drift_score)


def render_report_html(report: "DriftReport") -> str | None:
    """Evidently's standalone HTML page for the columns the check judged, or None without any.

    One ``ValueDrift`` per column with the check's method and calibrated threshold; built from
    the rows the check compared (kept on the report), so page and verdict agree.
    """
    judged = [c for c in report.columns if c.status != "insufficient_data" and c.method != "all_null"]
    if not judged or report.compared is None:
        return None
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    ref, cur = report.compared
    names = [c.column for c in judged]
    definition = DataDefinition(
        numerical_columns=[c.column for c in judged if c.column_type == "numerical"],
        categorical_columns=[c.column for c in judged if c.column_type == "categorical"],
    )
    metrics = [ValueDrift(column=c.column, method=c.method, threshold=c.threshold) for c in judged]
    snapshot = Report(metrics, include_tests=True).run(
        current_data=Dataset.from_pandas(cur[names], data_definition=definition),
        reference_data=Dataset.from_pandas(ref[names], data_definition=definition),
    )
    return snapshot.get_html_str(as_iframe=False)


def read_value_drift(result: dict, columns: list[str]) -> dict[str, tuple[float, bool]]:
    """``{column: (score, drifted)}`` from a snapshot's ``dict()``, matched by column name.

    The verdict is the column's test status (FAIL = drifted), never a comparison of the raw
    value, whose direction depends on the method.
    """
    scores, statuses = {}, {}
    for metric in result.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            scores[config["column"]] = float(metric["value"])
    for test in result.get("tests", []):
        params = test.get("metric_config", {}).get("params", {})
        if str(params.get("type", "")).endswith(":ValueDrift"):
            statuses[params["column"]] = str(getattr(test["status"], "value", test["status"])).upper()
    verdicts = {}
    for col in columns:
        status = statuses.get(col)
        if col not in scores or status not in ("FAIL", "SUCCESS"):
            raise RuntimeError(f"Evidently returned no usable drift result for column {col!r} (status {status})")
        verdicts[col] = (scores[col], status == "FAIL")
    return verdicts
