"""Keep passwords out of everything Retrain shows or stores.

A database URL may carry its password (``postgresql://user:secret@host/db``) and the team
servers take credentials from the environment (``MLFLOW_TRACKING_PASSWORD``,
``PREFECT_API_AUTH_STRING``). Any URL that reaches a tag, a log line, a status line or an
error message goes through :func:`redact_url` first; free text that may quote one goes
through :func:`redact_text`, which also blanks the secrets the environment holds.
Only the standard library is imported: every layer may use this module.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_VARIABLES = (
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_AUTH_ADMIN_PASSWORD",
    "MLFLOW_FLASK_SERVER_SECRET_KEY",
    "PREFECT_API_AUTH_STRING",
    "PREFECT_SERVER_API_AUTH_STRING",
    "PREFECT_API_KEY",
    "PGPASSWORD",
    # object stores (data.path by URL): their standard variables, never the config file
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
)
SECRET_QUERY_KEYS = {"password", "pass", "pwd", "secret", "token", "sslpassword"}
_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")
_MIN_SECRET_LENGTH = 4  # shorter values would blank ordinary words


def redact_url(url: str) -> str:
    """``scheme://user:secret@host/db?password=x`` shown as ``scheme://user:***@host/db?password=***``."""
    text = _USERINFO.sub(rf"\g<1>{MASK}@", str(url))
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.query:
        return text
    query = [(k, MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def password_of(url: str) -> str | None:
    """The password a URL carries, if any (to pass it on in ``PGPASSWORD``, never on a command line)."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def without_password(url: str) -> str:
    """The URL with its userinfo password removed (the user stays)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def known_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Secret values this process knows: the credential variables and passwords in store URLs."""
    env = os.environ if environ is None else environ
    found = [env[name] for name in SECRET_VARIABLES if env.get(name)]
    for name in ("RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        password = password_of(env.get(name, ""))
        if password:
            found.append(password)
    return [s for s in found if len(s) >= _MIN_SECRET_LENGTH]


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with URL passwords masked and every known secret value replaced by ``***``."""
    out = _USERINFO.sub(rf"\g<1>{MASK}@", str(text))
    for secret in sorted(known_secrets() if secrets is None else secrets, key=len, reverse=True):
        if secret:
            out = out.replace(secret, MASK)
    return out
