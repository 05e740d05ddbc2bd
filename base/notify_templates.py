"""The message each destination receives, as the Jinja templates Prefect's automations render.

The Prefect server renders ``subject`` and ``body`` of the ``SendNotification`` action with
the triggering event in scope; the event already carries its readable lines
(``base.notices``), so a template only lays them out, with links in the syntax of the
destination: ``<url|text>`` for Slack, ``[text](url)`` for Teams, the bare address in an
e-mail or a webhook. Names of blocks and automations are made here too, so a redeploy finds
and updates what the previous one created.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from base.settings_notifications import Destination, DestinationKind, SmtpSecurity

SUBJECT = "{{ event.payload.model }}: {{ event.payload.headline or event.payload.summary or event.event }}"
TEST_SUBJECT = "Retrain test message for {model}"
AUTOMATION_TAG = "retrain-notify"


def _link(kind: DestinationKind, url: str, text: str) -> str:
    if kind is DestinationKind.SLACK:
        return f"<{{{{ {url} }}}}|{text}>"
    if kind is DestinationKind.TEAMS:
        return f"[{text}]({{{{ {url} }}}})"
    return f"{text}: {{{{ {url} }}}}"


def body_template(kind: DestinationKind) -> str:
    """What happened, the metric before → after, why, who and which trigger, then the links."""
    flow_link = _link(kind, "p.flow_run_url", "flow run")
    mlflow_link = _link(kind, "p.mlflow_version_url", "MLflow version {{ p.version }}")
    sep = "\n" if kind in (DestinationKind.EMAIL, DestinationKind.WEBHOOK) else " · "
    chat = kind in (DestinationKind.SLACK, DestinationKind.TEAMS)  # a chat message has no subject line
    first = "*{{ p.model }}*: " if kind is DestinationKind.SLACK else ("**{{ p.model }}**: " if chat else "")
    return (
        "{% set p = event.payload %}"
        f"{first}{{{{ p.headline or p.summary or event.event }}}}\n"
        "{% if p.change %}{{ p.change }}\n{% endif %}"
        "{% if p.why %}why: {{ p.why }}\n{% endif %}"
        "model {{ p.model }}{% if p.trigger %} · trigger {{ p.trigger }}{% endif %}"
        "{% if p.actor %} · by {{ p.actor }}{% endif %}\n"
        f"{{% if p.flow_run_url %}}{flow_link}{sep}{{% endif %}}"
        f"{{% if p.mlflow_version_url %}}{mlflow_link}{{% endif %}}"
    )


def test_body(model: str, events: list[str]) -> str:
    """The one message ``retrain notify test`` sends: which model and which events will come here."""
    return f"Retrain test message: this destination hears of {model}: {', '.join(events)}. Nothing happened to it."


def block_name(destination: Destination) -> str:
    """The Prefect block of a destination; shared by every model that names it."""
    return f"retrain-{destination.kind}-{destination.name}"


def automation_name(model: str, destination: Destination) -> str:
    return f"retrain {model} → {destination.name}"


def where(destination: Destination, url: str | None = None) -> str:
    """Where messages go, without the secret: a webhook's host, or the mail server and recipients."""
    if destination.kind is DestinationKind.EMAIL:
        return f"{destination.smtp_host}:{destination.port} → {', '.join(destination.to)}"
    host = urlsplit(url).hostname if url else None
    source = f"${destination.url_env}" if destination.url_env else f"secret {destination.url_secret}"
    return f"{host or '?'} (URL from {source})"


def mailto_url(destination: Destination, password: str | None) -> str:
    """The Apprise URL of an SMTP destination (Apprise sends Prefect's notification blocks' messages)."""
    user = destination.username or ""
    auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
    mode = {SmtpSecurity.STARTTLS: "starttls", SmtpSecurity.SSL: "ssl", SmtpSecurity.NONE: "insecure"}
    query = {
        "smtp": destination.smtp_host or "",
        "from": destination.sender or "",
        "to": ",".join(destination.to),
        "mode": mode[destination.security],
        "format": "text",  # plain text keeps the message's lines; Apprise's default HTML would join them
    }
    scheme = "mailto" if destination.security is SmtpSecurity.NONE else "mailtos"
    return f"{scheme}://{auth}{destination.smtp_host}:{destination.port}?{urlencode(query)}"


# Apprise's JSON webhook payload {version, title, message, attachments, type}, renamed per kind
# (``:old=new`` renames a key, ``:old=`` drops it): Slack and legacy Teams hooks read ``text``.
JSON_FIELDS = {
    "chat": {":message": "text", ":title": "", ":version": "", ":attachments": "", ":type": ""},
    "webhook": {
        ":message": "body",
        ":title": "subject",
        ":version": "",
        ":attachments": "",
        ":type": "",
        ":source": "retrain",
    },
}


def json_webhook_url(url: str, chat: bool) -> str:
    """The Apprise ``json://`` URL that POSTs a message to ``url`` (its own query kept as ``-key``)."""
    parts = urlsplit(url)
    scheme = "jsons" if parts.scheme == "https" else "json"
    query = [(f"-{k}", v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query += list(JSON_FIELDS["chat" if chat else "webhook"].items())
    return f"{scheme}://{parts.netloc}{parts.path or '/'}?{urlencode(query)}"
