"""The ``notifications`` section: where a model's decisions are told, and which ones.

Each destination is a Slack or Microsoft Teams incoming webhook, an SMTP mailbox or a custom
webhook into an incident tool. ``retrain serve`` and ``retrain deploy`` turn each into one
Prefect notification block and, per model, one automation that sends the subscribed events
there; the Prefect server sends, so a destination that is down never slows a retrain.

A webhook URL carries its token and an SMTP password is a password: the config names the
environment variable that holds one (``url_env``, ``password_env``) or a Prefect Secret
block (``url_secret``, ``password_secret``), never the value itself.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from base.settings_checks import Strict
from base.vocabulary import DEFAULT_NOTIFY_EVENTS, NOTIFIABLE_EVENTS

DESTINATION_NAME = r"[a-z0-9][a-z0-9-]{0,39}"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
SECRET_KEYS = ("url", "webhook_url", "password", "token")


class DestinationKind(StrEnum):
    """Where a destination's messages go."""

    SLACK = "slack"
    TEAMS = "teams"
    EMAIL = "email"
    WEBHOOK = "webhook"


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected (Apprise's ``mode``)."""

    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


class Destination(Strict):
    """One place messages go, and the events it hears (default: ``DEFAULT_NOTIFY_EVENTS``)."""

    name: str = Field(description="lowercase letters, digits and dashes; names the Prefect block and automation")
    kind: DestinationKind
    events: list[str] = Field(default_factory=lambda: list(DEFAULT_NOTIFY_EVENTS))
    url_env: str | None = Field(default=None, description="environment variable holding the webhook URL")
    url_secret: str | None = Field(default=None, description="Prefect Secret block holding the webhook URL")
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password_env: str | None = None
    password_secret: str | None = None
    sender: str | None = Field(default=None, description="From: address of the e-mails")
    to: list[str] = Field(default_factory=list, description="recipients of the e-mails")

    @model_validator(mode="before")
    @classmethod
    def _no_secret_values(cls, data: Any) -> Any:
        """A URL or password written into the file would end up in git: refuse it with the way out."""
        if isinstance(data, dict):
            for key in SECRET_KEYS:
                if key in data:
                    raise ValueError(
                        f"{key!r} would put a secret into the config file; name the environment variable "
                        f"holding it ({'password' if 'password' in key else 'url'}_env) or a Prefect Secret "
                        f"block ({'password' if 'password' in key else 'url'}_secret)"
                    )
        return data

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(DESTINATION_NAME, v):
            raise ValueError("expected 1-40 lowercase letters, digits or dashes, starting with a letter or digit")
        return v

    @field_validator("events")
    @classmethod
    def _known_events(cls, v: list[str]) -> list[str]:
        unknown = [e for e in v if e not in NOTIFIABLE_EVENTS]
        if unknown:
            raise ValueError(f"unknown event(s) {unknown}; expected some of {list(NOTIFIABLE_EVENTS)}")
        if not v:
            raise ValueError("a destination hears at least one event (leave `events` out for the default)")
        return list(dict.fromkeys(v))

    @field_validator("url_env", "password_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(ENV_NAME, v):
            raise ValueError("expected the name of an environment variable (letters, digits, underscores)")
        return v

    @model_validator(mode="after")
    def _complete(self) -> "Destination":
        if self.kind is DestinationKind.EMAIL:
            missing = [k for k in ("smtp_host", "sender") if getattr(self, k) is None] + ([] if self.to else ["to"])
            if missing:
                raise ValueError(f"an email destination needs {', '.join(missing)}")
            if self.url_env or self.url_secret:
                raise ValueError("an email destination has no URL: give smtp_host, sender and to")
            if self.password_env and self.password_secret:
                raise ValueError("give password_env or password_secret, not both")
        elif (self.url_env is None) == (self.url_secret is None):
            raise ValueError(f"a {self.kind} destination needs exactly one of url_env or url_secret")
        return self

    @property
    def port(self) -> int:
        """The SMTP port, by default the one of the connection's security."""
        default = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.SSL: 465, SmtpSecurity.NONE: 25}[self.security]
        return self.smtp_port or default


class NotificationsConfig(Strict):
    """``notifications.destinations``: where the model's decisions are told."""

    destinations: list[Destination] = Field(default_factory=list)

    @field_validator("destinations")
    @classmethod
    def _unique(cls, v: list[Destination]) -> list[Destination]:
        names = [d.name for d in v]
        if len(set(names)) != len(names):
            raise ValueError(f"two destinations share a name: {sorted(names)}")
        return v
