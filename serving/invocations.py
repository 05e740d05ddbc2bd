"""What an HTTP scoring request says, and what it is answered: MLflow's ``/invocations`` formats.

A request is JSON with ``dataframe_split`` (``columns`` + ``data``) or ``dataframe_records``
(one object per row), or CSV with ``Content-Type: text/csv`` — the formats ``mlflow models
serve`` takes, so a client can switch without changing its body. Anything else is refused
with a message naming the problem, before any model sees it. The answer is one object per row,
the columns batch scoring writes (``id``, ``prediction``, ``score``, ``confidence``, ``route``,
``version``, ...). No web framework here: the app layer maps each refusal to its status code.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from base.errors import Kind, RetrainError

if TYPE_CHECKING:
    from base.settings import ModelConfig

FORMATS = ("dataframe_split", "dataframe_records")


class RequestRefused(RetrainError):
    """A body that is not a table of rows: malformed JSON, empty, an unknown format (HTTP 400)."""

    kind = Kind.USAGE


class BodyTooLarge(RequestRefused):
    """A body over ``serving.endpoint.max_body_bytes`` (HTTP 413)."""


class UnknownColumns(RetrainError):
    """Columns the model has never seen (HTTP 422): a typo or another feed, refused, never ignored."""

    kind = Kind.DATA_INVALID


def parse_invocation(body: bytes, content_type: str, config: "ModelConfig") -> pd.DataFrame:
    """The request's rows as a frame, its timestamp column parsed like a batch file's."""
    limit = config.serving.endpoint.max_body_bytes
    if len(body) > limit:
        raise BodyTooLarge(
            f"request body of {len(body)} bytes is over the limit of {limit} (serving.endpoint.max_body_bytes)"
        )
    if not body.strip():
        raise RequestRefused("empty request body: send dataframe_split or dataframe_records JSON, or CSV")
    kind = content_type.split(";")[0].strip().lower()
    frame = read_csv(body) if kind == "text/csv" else read_json(body)
    if frame.empty or len(frame.columns) == 0:
        raise RequestRefused("the request holds no rows")
    return parse_time(frame, config.data.timestamp_column)


def read_csv(body: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRefused(f"unreadable CSV body: {str(exc).strip()}") from None


def read_json(body: bytes) -> pd.DataFrame:
    """``dataframe_split`` or ``dataframe_records``, exactly one of them."""
    try:
        payload = _loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise RequestRefused(f"malformed JSON{where}: {getattr(exc, 'msg', exc)}") from None
    found = [key for key in FORMATS if isinstance(payload, dict) and key in payload]
    if len(found) != 1:
        keys = ", ".join(map(repr, payload)) if isinstance(payload, dict) else type(payload).__name__
        raise RequestRefused(f"expected exactly one of {', '.join(FORMATS)} (got {keys or 'nothing'})")
    return _split(payload[found[0]]) if found[0] == "dataframe_split" else _records(payload[found[0]])


def _loads(body: bytes) -> Any:
    """orjson (several times faster on a hundred rows); the standard parser for what it refuses:
    ``NaN`` literals (Python's ``json.dumps`` writes them), integers beyond 64 bits, UTF-16,
    and malformed JSON, whose message (line, column) is then the standard parser's."""
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _split(part: Any) -> pd.DataFrame:
    if (
        not isinstance(part, dict)
        or not isinstance(part.get("columns"), list)
        or not isinstance(part.get("data"), list)
    ):
        raise RequestRefused("dataframe_split needs 'columns' (a list of names) and 'data' (a list of rows)")
    widths = {len(row) if isinstance(row, list) else -1 for row in part["data"]}
    if widths - {len(part["columns"])}:
        raise RequestRefused(f"dataframe_split: every row of 'data' must be a list of {len(part['columns'])} values")
    return pd.DataFrame(part["data"], columns=[str(c) for c in part["columns"]])


def _records(part: Any) -> pd.DataFrame:
    if not isinstance(part, list) or not all(isinstance(row, dict) for row in part):
        raise RequestRefused("dataframe_records needs a list of objects, one per row")
    return pd.DataFrame.from_records(part)


def parse_time(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The timestamp column (when sent) to UTC, as ``load_batch`` does for a file; in place."""
    from training.data import DataError, parse_timestamps

    if column not in frame.columns:
        return frame
    try:
        parsed = parse_timestamps(frame[column], "request")
    except DataError as exc:
        raise RequestRefused(str(exc)) from None
    frame[column] = parsed  # the frame is the request's own, just built: no copy of the other columns
    return frame


def refuse_unknown(frame: pd.DataFrame, known: set[str]) -> None:
    """Columns outside ``known`` are refused by name: a renamed feature must not pass as a missing one."""
    unknown = [str(c) for c in frame.columns if str(c) not in known]
    if unknown:
        shown = ", ".join(map(repr, unknown[:20]))
        raise UnknownColumns(f"unknown column(s) {shown}; the model knows {', '.join(sorted(known))}")


def answer_bytes(rows: pd.DataFrame) -> bytes:
    """``{"predictions": [...]}``, one object per row, missing values as null: pandas writes the
    rows' JSON once, nothing parses it again."""
    return b'{"predictions":' + rows.to_json(orient="records", double_precision=15).encode() + b"}"
