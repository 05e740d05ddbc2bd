"""The ``notifications`` section: destinations, their events, and no secret written into the file."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from base.notices import notice_for
from base.notify_templates import SUBJECT, body_template, json_webhook_url, mailto_url, where
from base.settings_notifications import Destination, DestinationKind, NotificationsConfig
from base.vocabulary import DEFAULT_NOTIFY_EVENTS


def render(template: str, event: str, payload: dict) -> str:
    """The template as the Prefect server renders it for an automation's action (its sandbox)."""
    from types import SimpleNamespace

    from prefect.server.utilities.user_templates import render_user_template_sync

    full = {**payload, **notice_for(event, payload).to_payload()}
    return render_user_template_sync(template, {"event": SimpleNamespace(event=event, payload=full)})


def test_a_destination_takes_its_url_from_the_environment_and_hears_the_default_events():
    d = Destination.model_validate({"name": "ml-team", "kind": "slack", "url_env": "SLACK_WEBHOOK_URL"})
    assert d.events == list(DEFAULT_NOTIFY_EVENTS) and "retrain.model.rejected" not in d.events


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"name": "x", "kind": "slack", "url": "https://hooks.slack.com/services/T/B/secret"}, "url_env"),
        ({"name": "x", "kind": "email", "smtp_host": "h", "sender": "a@b", "to": ["c@d"], "password": "pw"}, "secret"),
        ({"name": "x", "kind": "webhook"}, "exactly one of url_env or url_secret"),
        ({"name": "x", "kind": "email", "smtp_host": "h"}, "needs sender, to"),
        ({"name": "X Y", "kind": "slack", "url_env": "A"}, "lowercase"),
        ({"name": "x", "kind": "slack", "url_env": "A", "events": ["retrain.model.promotd"]}, "unknown event"),
        ({"name": "x", "kind": "slack", "url_env": "not a name"}, "environment variable"),
    ],
)
def test_a_bad_destination_is_refused_with_what_to_write(raw, says):
    from base.settings_checks import describe_error

    with pytest.raises(ValidationError) as caught:
        Destination.model_validate(raw)
    said = " ".join(msg for _, msg in (describe_error(dict(e)) for e in caught.value.errors()))
    assert says in said
    assert "services/T/B" not in said and "pw" not in said.split()  # the value itself is never echoed


def test_two_destinations_may_not_share_a_name():
    same = {"name": "x", "kind": "slack", "url_env": "A"}
    with pytest.raises(ValidationError, match="share a name"):
        NotificationsConfig.model_validate({"destinations": [same, same]})


def test_a_promotion_reads_well_in_slack():
    payload = {
        "model": "flights-late",
        "version": "5",
        "previous_champion": "4",
        "metric": "roc_auc",
        "champion_score": 0.712,
        "candidate_score": 0.7311,
        "difference_interval": [0.004, 0.033],
        "reasons": ["pass: floor: roc_auc 0.7311 at least 0.6", "pass: candidate significantly better"],
        "trigger": "drift",
        "actor": "retrain@prod",
        "flow_run_url": "http://prefect:4200/runs/flow-run/abc",
        "mlflow_version_url": "http://mlflow:5000/#/models/flights-late/versions/5",
    }
    text = render(body_template(DestinationKind.SLACK), "retrain.model.promoted", payload)
    lines = text.splitlines()
    assert lines[0] == "*flights-late*: v5 promoted to champion (was v4)"
    assert lines[1] == "roc_auc 0.7120 → 0.7311 (difference interval [+0.0040, +0.0330])"
    assert lines[2].startswith("why: pass: floor") and "significantly better" in lines[2]
    assert lines[3] == "model flights-late · trigger drift · by retrain@prod"
    assert lines[4] == (
        "<http://prefect:4200/runs/flow-run/abc|flow run> · "
        "<http://mlflow:5000/#/models/flights-late/versions/5|MLflow version 5>"
    )
    subject = render(SUBJECT, "retrain.model.promoted", payload)
    assert subject == "flights-late: v5 promoted to champion (was v4)"


def test_a_rejection_says_which_rule_failed_and_an_email_has_plain_links():
    payload = {
        "model": "m",
        "version": "3",
        "previous_champion": "2",
        "champion_version": "2",
        "reasons": ["pass: output checks", "fail: floor: candidate roc_auc 0.5 must be at least 0.6"],
        "flow_run_url": "http://p/runs/flow-run/1",
    }
    text = render(body_template(DestinationKind.EMAIL), "retrain.model.rejected", payload)
    assert text.splitlines()[0] == "v3 rejected; champion v2 stays"
    assert "why: fail: floor: candidate roc_auc 0.5 must be at least 0.6" in text and "pass:" not in text
    assert "flow run: http://p/runs/flow-run/1" in text


def test_a_drift_alarm_and_a_move_outside_retrain_name_what_happened():
    drift = render(
        body_template(DestinationKind.TEAMS),
        "retrain.drift.detected",
        {"model": "m", "version": "2", "batch": "m05.csv", "summary": "DRIFT 3 of 4 columns drifted"},
    )
    assert drift.startswith("**m**: drift in m05.csv (champion v2)") and "why: DRIFT 3 of 4" in drift
    moved = notice_for("retrain.champion.moved_outside", {"version": "1", "from_version": "3", "message": "..."})
    assert moved.headline == "champion moved in the MLflow registry, v3 → v1"


def test_webhook_and_mail_urls_keep_their_secret_in_the_block_and_out_of_where():
    d = Destination.model_validate({"name": "ops", "kind": "webhook", "url_env": "HOOK"})
    assert where(d, "https://hooks.example.com/T/secret-token") == "hooks.example.com (URL from $HOOK)"
    url = json_webhook_url("https://hooks.example.com/T/secret-token?sig=abc", chat=False)
    assert url.startswith("jsons://hooks.example.com/T/secret-token?-sig=abc&")
    mail = Destination.model_validate(
        {
            "name": "m",
            "kind": "email",
            "smtp_host": "smtp.example.com",
            "username": "bot",
            "password_env": "PW",
            "sender": "a@example.com",
            "to": ["b@example.com"],
        }
    )
    assert mailto_url(mail, "p@ss").startswith("mailtos://bot:p%40ss@smtp.example.com:587?smtp=smtp.example.com")
    assert "p@ss" not in where(mail) and where(mail) == "smtp.example.com:587 → b@example.com"


def test_a_first_promotion_and_a_champion_below_the_floor_say_what_the_scores_are():
    first = notice_for("retrain.model.promoted", {"version": "1", "metric": "roc_auc", "candidate_score": 0.6722})
    assert first.change == "roc_auc 0.6722 (no champion before)"
    floor = notice_for(
        "retrain.champion.below_floor",
        {"champion_version": "1", "candidate_version": "2", "metric": "roc_auc", "champion_score": 0.5535,
         "candidate_score": 0.5675, "reasons": ["fail: floor: candidate 0.5675 below 0.6", "pass: output checks"]},
    )  # fmt: skip
    assert floor.headline == "champion v1 is below the gate's floor"
    assert floor.change == "champion roc_auc 0.5535, candidate v2 0.5675"
    assert floor.why == "fail: floor: candidate 0.5675 below 0.6"
