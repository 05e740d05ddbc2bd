"""Running the review page: the site's stores, the accounts, the secret, then uvicorn.

``retrain review serve`` calls ``serve_page``; ``retrain ui`` starts that command as one of
its child servers. A page with nobody allowed to sign in is refused before it starts.
"""

from __future__ import annotations

from pathlib import Path

from base.errors import Kind, RetrainError
from retrain.review_web.accounts import Gatekeeper, accounts_file, load_accounts
from retrain.review_web.pages import ReviewSite

DEFAULT_PORT = 4300


def review_site(home: Path, tracking_uri: str | None, serving_url: str | None, ledger_url: str | None,
                prediction_log: Path | None = None) -> ReviewSite:  # fmt: skip
    """The stores the page reads, found as every command finds them (explicit, environment, home)."""
    from base.settings_state import LOCAL_STATE, serving_state_url, store_urls

    tracking, ledger = store_urls(str(home), tracking_uri, ledger_url)
    url = serving_state_url(serving_url, ledger)
    log_root = (prediction_log or home / "predictions").resolve()
    return ReviewSite(home, tracking, url, log_root, LOCAL_STATE if prediction_log else url)


def gatekeeper(home: Path, tracking_uri: str) -> Gatekeeper:
    """The accounts; MLflow's users too when the tracking server demands credentials."""
    gate = Gatekeeper(load_accounts(home), tracking_uri)
    if not gate.accounts and not gate.uses_mlflow:
        raise RetrainError(
            f"no reviewer can sign in: set RETRAIN_REVIEWERS, or add one to {accounts_file(home)} with "
            "`retrain review add-user NAME` (or point --tracking-uri at the team's MLflow server)",
            kind=Kind.USAGE,
        )
    return gate


def serve_page(site: ReviewSite, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    import uvicorn

    from retrain.review_web.app import create_app
    from retrain.review_web.sessions import Sessions, review_secret

    app = create_app(site, gatekeeper(site.home, site.tracking_uri), Sessions(review_secret(site.home)))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
