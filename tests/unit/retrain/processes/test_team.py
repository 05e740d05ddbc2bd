"""``retrain server up``: what it parses, refuses and prints, without starting anything."""

from __future__ import annotations

import pytest

from base.errors import RetrainError
from retrain.processes.team import TeamRecord
from retrain.processes.team_config import parse_database_url, read_credentials, write_auth_config

CREDS = {
    "MLFLOW_TRACKING_USERNAME": "admin",
    "MLFLOW_TRACKING_PASSWORD": "long-enough-pw",
    "PREFECT_API_AUTH_STRING": "team:pf",
}


def test_database_url_gives_prefix_and_server_urls_without_password():
    db = parse_database_url("postgresql://ops:pw-1@db.internal:5433/acme")
    assert (db.user, db.password, db.host, db.port, db.prefix) == ("ops", "pw-1", "db.internal", 5433, "acme")
    assert db.names == ["acme_prefect", "acme_mlflow", "acme_mlflow_auth"]
    assert db.url("asyncpg", "prefect") == "postgresql+asyncpg://ops@db.internal:5433/acme_prefect"


@pytest.mark.parametrize("url", ["mysql://u@h/x", "postgresql://u:secret-9@h/", "postgresql://u@h/a-b"])
def test_unusable_database_url_is_a_usage_error_without_the_password(url):
    with pytest.raises(RetrainError) as err:
        parse_database_url(url)
    assert err.value.kind == "usage" and "secret-9" not in str(err.value)


def test_credentials_must_all_be_set_and_the_mlflow_password_long_enough():
    assert read_credentials(CREDS) == CREDS
    with pytest.raises(RetrainError, match="PREFECT_API_AUTH_STRING"):
        read_credentials({**CREDS, "PREFECT_API_AUTH_STRING": ""})
    with pytest.raises(RetrainError, match="at least 12"):
        read_credentials({**CREDS, "MLFLOW_TRACKING_PASSWORD": "short"})


def test_auth_config_names_its_database_but_no_password(tmp_path):
    db = parse_database_url("postgresql://ops:pw-123456@db/acme")
    text = write_auth_config(tmp_path, db).read_text()
    assert "database_uri = postgresql+psycopg://ops@db:5432/acme_mlflow_auth" in text
    assert "pw-123456" not in text and "default_permission = NO_PERMISSIONS" in text


def test_client_env_masks_every_secret():
    record = TeamRecord("s", 1, 2, "http://h:4200/api", "http://h:5000", "postgresql+psycopg://ops@db/acme_mlflow",
                        "a", [], "t", needs_pgpassword=True)  # fmt: skip
    env = record.client_env()
    assert env["MLFLOW_TRACKING_PASSWORD"] == env["PREFECT_API_AUTH_STRING"] == env["PGPASSWORD"] == "***"
    assert env["RETRAIN_LEDGER_URL"] == "postgresql+psycopg://ops@db/acme_mlflow"
