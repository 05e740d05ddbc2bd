"""Checking reviewers' answers before any is recorded, for every way they arrive.

``retrain review answer`` (one id, or a filled-in sheet) and the review page both go through
``check_answers``: each answer must name a queued row and a label the row's model version can
have (``serving.label_domain``), and all are checked before any is recorded, so a sheet with
one typo, or a page submit with one bad row, records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from serving.label_domain import find_problems, queue_domains, summarise, version_domains


def check_answers(
    home: Path,
    model: str,
    pairs: Sequence[tuple[str, str]],
    tracking_uri: str,
    where: Callable[[int, str], str] | None = None,
    url: str | None = None,
) -> str | None:
    """Why the answers ``(row id, label)`` cannot be recorded, or None; ``where`` names a row in messages."""
    from serving.review_queue import list_queue

    queue = list_queue(home, model, pending_only=False, url=url)
    queued = dict(zip(queue["id"].astype(str), queue["version"].astype(str), strict=True))
    unknown = [rid for rid, _ in pairs if rid not in queued]
    if unknown:
        rows = ", ".join(map(repr, unknown[:5]))
        return f"row {rows} is not in the review queue of {model!r} (see `retrain review list`); nothing recorded"
    domain = queue_domains(home, model, version_domains(tracking_uri, model), url)
    name = where or (lambda _i, rid: f"row {rid}")
    problems = find_problems((name(i, rid), label, domain(queued[rid])) for i, (rid, label) in enumerate(pairs))
    return summarise(problems, "answer(s)") if problems else None
