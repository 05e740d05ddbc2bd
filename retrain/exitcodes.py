"""Exit codes of the ``retrain`` CLI: CI scripts branch on these, so they never change meaning."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # promoted, valid, done
    ERROR = 1  # unexpected failure (a bug or an unreachable store)
    USAGE = 2  # bad config, bad arguments
    DATA_INVALID = 3  # a batch failed validation and was quarantined
    REJECTED = 4  # candidate registered as challenger, gate said no
    UNKNOWN_MODEL = 5
    NOTHING_TO_ROLL_BACK = 6
    TARGET_UNAVAILABLE = 7  # target version missing or not loadable
    EXPECTATION_MISMATCH = 8  # --expect-current did not match
    DRIFT = 9  # drift or performance decay detected
    PENDING_APPROVAL = 10  # candidate passed the gate and waits for a person
    BUSY = 11  # another retrain of the model holds its run lease
    WITHHELD = 12  # a person's verdict (hold or blocked fingerprint) withheld the promotion
