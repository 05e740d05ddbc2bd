"""Exit codes of the ``retrain`` CLI: CI scripts branch on these, so they never change meaning.

This is the one table: ``Exit`` names the codes, ``MEANING`` says what each means (the
README's table is checked against it by ``tests/unit/retrain/test_exit_table.py``; print it
with ``python -m base.exitcodes``), and ``EXIT_BY_KIND`` maps each kind of
``base.errors.RetrainError`` to its code.
"""

from enum import IntEnum

from base.errors import Kind


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    DATA_INVALID = 3
    REJECTED = 4
    UNKNOWN_MODEL = 5
    NOTHING_TO_ROLL_BACK = 6
    TARGET_UNAVAILABLE = 7
    EXPECTATION_MISMATCH = 8
    DRIFT = 9
    PENDING_APPROVAL = 10
    BUSY = 11
    WITHHELD = 12
    STORE_UNAVAILABLE = 13
    INSUFFICIENT_DATA = 14
    NOTIFY_FAILED = 15
    INTERRUPTED = 130
    PIPE_CLOSED = 141


MEANING = {
    Exit.OK: "ok / promoted",
    Exit.ERROR: "unexpected error (a bug: its traceback is printed on stderr)",
    Exit.USAGE: "config or usage error (the message names the file, the field and what was expected)",
    Exit.DATA_INVALID: "data invalid: a batch failed validation (`run` quarantines it; nothing registered)",
    Exit.REJECTED: "candidate registered as `challenger`, rejected by the gate",
    Exit.UNKNOWN_MODEL: "unknown model",
    Exit.NOTHING_TO_ROLL_BACK: "nothing to roll back to",
    Exit.TARGET_UNAVAILABLE: "target version missing or not loadable",
    Exit.EXPECTATION_MISMATCH: "`--expect-current` did not match the champion",
    Exit.DRIFT: "drift or performance decay detected",
    Exit.PENDING_APPROVAL: "candidate waits for approval",
    Exit.BUSY: "another retrain of the model holds its run lease",
    Exit.WITHHELD: "a person's verdict (hold or blocked fingerprint) withheld the promotion",
    Exit.STORE_UNAVAILABLE: "a store (registry, ledger, home folder) is unavailable or refused a write "
    "(disk full, read-only, database unreachable, lock timeout); nothing changed",
    Exit.INSUFFICIENT_DATA: "insufficient data: too few rows for a drift verdict (neither drift nor its absence)",
    Exit.NOTIFY_FAILED: "a notification destination did not take the test message (`retrain notify test`); "
    "the others got theirs",
    Exit.INTERRUPTED: "interrupted (Ctrl-C or SIGTERM)",
    Exit.PIPE_CLOSED: "the reader of the output went away (piped into `head`): ended quietly, as a shell tool "
    "killed by SIGPIPE does; everything the command did before stands",
}

EXIT_BY_KIND = {
    Kind.UNEXPECTED: Exit.ERROR,
    Kind.CONFIG: Exit.USAGE,
    Kind.USAGE: Exit.USAGE,
    Kind.DATA_INVALID: Exit.DATA_INVALID,
    Kind.UNKNOWN_MODEL: Exit.UNKNOWN_MODEL,
    Kind.NOTHING_TO_ROLL_BACK: Exit.NOTHING_TO_ROLL_BACK,
    Kind.TARGET_UNAVAILABLE: Exit.TARGET_UNAVAILABLE,
    Kind.EXPECTATION_MISMATCH: Exit.EXPECTATION_MISMATCH,
    Kind.BUSY: Exit.BUSY,
    Kind.WITHHELD: Exit.WITHHELD,
    Kind.STORE_UNAVAILABLE: Exit.STORE_UNAVAILABLE,
    Kind.INSUFFICIENT_DATA: Exit.INSUFFICIENT_DATA,
    Kind.INTERRUPTED: Exit.INTERRUPTED,
    Kind.NOTIFY_FAILED: Exit.NOTIFY_FAILED,
}

# The reverse, for ``retrain.output.fail`` callers that name a code: a config error has its own
# exception (``ConfigError``), so a bare code 2 is a usage error.
KIND_BY_EXIT = {code: kind for kind, code in EXIT_BY_KIND.items() if kind is not Kind.CONFIG}


def exit_for(kind: Kind) -> Exit:
    """The exit code of an error kind."""
    return EXIT_BY_KIND[kind]


def kind_for(code: Exit) -> Kind:
    """The kind an error reported by exit code alone shows in JSON."""
    return KIND_BY_EXIT.get(Exit(code), Kind.UNEXPECTED)


def markdown_table() -> str:
    """The README's exit-code table, generated from ``MEANING``."""
    rows = ["| code | meaning |", "| --- | --- |"]
    rows += [f"| {int(code)} | {MEANING[code]} |" for code in Exit]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
