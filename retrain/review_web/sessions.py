"""Signed cookie sessions and the CSRF token every form carries.

The cookie holds the signed-in name and a random token, signed with the page's secret
(itsdangerous) and valid for ``SESSION_HOURS``; nothing else identifies a reviewer, so an
answer is recorded under that name, never a name typed in a form. Every form repeats the
token and a POST whose token differs from the session's is refused: another site cannot make
a signed-in reviewer's browser answer rows. A visitor who has not signed in gets a session
without a name (for the sign-in form's own token).

The secret is ``RETRAIN_REVIEW_SECRET`` (several page servers behind one address share it),
else one kept in ``<home>/review-secret``, readable by its owner only.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "retrain_review"
SESSION_HOURS = 12


@dataclass(frozen=True)
class Session:
    """Who is signed in (None: nobody yet) and the token their forms must carry."""

    user: str | None
    csrf: str

    def token_matches(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf, str(given))


def review_secret(home: Path) -> str:
    given = os.environ.get("RETRAIN_REVIEW_SECRET")
    if given:
        return given
    path = Path(home) / "review-secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


class Sessions:
    """Reads and writes the session cookie's value."""

    def __init__(self, secret: str):
        self.signer = URLSafeTimedSerializer(secret, salt="retrain-review-session")

    def read(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when it is absent, forged or expired."""
        if not cookie:
            return None
        try:
            data = self.signer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        return Session(data.get("u"), str(data.get("t", ""))) if isinstance(data, dict) and data.get("t") else None

    def write(self, session: Session) -> str:
        return str(self.signer.dumps({"u": session.user, "t": session.csrf}))

    @staticmethod
    def fresh(user: str | None = None) -> Session:
        """A new session (and token): at sign-in the token changes, so one seen before is useless."""
        return Session(user, secrets.token_urlsafe(24))
