"""Passwords never reach output: URL userinfo and query secrets masked, known secret values blanked."""

from __future__ import annotations

from base.errors import StoreUnavailable, store_faults
from base.secrets import known_secrets, password_of, redact_text, redact_url, without_password


def test_redact_url_masks_userinfo_and_query_passwords():
    assert redact_url("postgresql+psycopg://bob:s3cr3t@db:5432/x") == "postgresql+psycopg://bob:***@db:5432/x"
    assert redact_url("postgresql://db/x?user=bob&password=s3cr3t&sslmode=require") == (
        "postgresql://db/x?user=bob&password=***&sslmode=require"
    )
    assert redact_url("sqlite:////tmp/home/ledger.db") == "sqlite:////tmp/home/ledger.db"
    assert redact_url("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_password_of_and_without_password():
    url = "postgresql://bob:p%40ss@db:5433/team"
    assert password_of(url) == "p%40ss"
    assert without_password(url) == "postgresql://bob@db:5433/team"
    assert password_of("postgresql://bob@db/team") is None


def test_known_secrets_come_from_credential_variables_and_store_urls():
    env = {
        "MLFLOW_TRACKING_PASSWORD": "mlflow-pass-1",
        "PREFECT_API_AUTH_STRING": "team:pf-pass-2",
        "RETRAIN_LEDGER_URL": "postgresql+psycopg://bob:db-pass-3@db/x",
        "PGPASSWORD": "ab",  # too short to blank safely
    }
    assert sorted(known_secrets(env)) == ["db-pass-3", "mlflow-pass-1", "team:pf-pass-2"]
    text = "login team:pf-pass-2 failed for postgresql://bob:db-pass-3@db/x with mlflow-pass-1"
    assert redact_text(text, known_secrets(env)) == "login *** failed for postgresql://bob:***@db/x with ***"


def test_store_fault_message_names_the_store_without_its_password():
    import sqlalchemy as sa

    url = "postgresql+psycopg://bob:hunter2-long@127.0.0.1:1/nowhere"
    try:
        with store_faults("promotion ledger", url, "check it"):
            sa.create_engine(url).connect()
    except StoreUnavailable as err:
        assert "hunter2-long" not in str(err) and "bob:***@127.0.0.1:1" in str(err)
    else:
        raise AssertionError("an unreachable database must be a store fault")


def test_config_errors_about_store_urls_mask_the_password(tmp_path, monkeypatch):
    import pytest

    from base.settings import ConfigError, ModelConfig
    from monitoring.preflight import check_references

    (tmp_path / "s.json").write_text("{}")
    config = ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "data": {"path": "*.csv", "timestamp_column": "ts", "target_column": "y"},
            "validation": {"suite": "s.json"},
        }
    )
    config.config_path = tmp_path / "m.yaml"
    monkeypatch.setenv("RETRAIN_LEDGER_URL", "nodriver+x://bob:ledger-pw-1@db/x")
    monkeypatch.setenv("RETRAIN_TRACKING_URI", "gopher://bob:track-pw-2@db/x")
    with pytest.raises(ConfigError) as err:
        check_references(config)
    text = str(err.value)
    assert "bob:***@db" in text and "ledger-pw-1" not in text and "track-pw-2" not in text
