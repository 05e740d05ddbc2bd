"""Reviewers answer the queue in a browser; their answers are labels another machine counts.

The page runs as its own process with its own home, on the team profile's PostgreSQL state
(see conftest): what it lists was scored by this process, and ``retrain feedback`` in a
third process with a third home counts the answers given on it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.review.conftest import PASSWORDS, csrf_of

pytestmark = pytest.mark.integration
DOCS = Path(__file__).resolve().parents[3] / "docs"


def queue(team, pending_only=False):
    from serving.review_queue import list_queue

    return list_queue(team.worker, "synth", pending_only=pending_only, url=team.url)


def test_an_anonymous_visitor_and_a_wrong_password_see_no_row(team, page):
    import httpx
    from playwright.sync_api import expect

    anonymous = httpx.get(f"{team.base}/models/synth", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    assert httpx.post(f"{team.base}/models/synth/answers", data={"label:x": "1"}).status_code == 401
    some_id = queue(team)["id"].iloc[0]
    page.goto(f"{team.base}/models/synth")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("wrong name or password")
    page.goto(f"{team.base}/")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert some_id not in page.content()


def test_a_reviewer_answers_five_rows_with_the_keyboard_and_corrects_one(team, page, tmp_path):
    from playwright.sync_api import expect

    from serving.review_queue import answers

    page.goto(f"{team.base}/")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORDS["alice"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="synth").click()
    waiting = queue(team, pending_only=True)
    shown = page.locator("#queue tr.row").evaluate_all("rows => rows.map(r => r.dataset.id)")
    confidence = [float(c) for c in page.locator("#queue td.confidence").all_inner_texts()]
    assert shown == waiting["id"].tolist() and confidence == sorted(confidence)  # least confident first

    keys = ["1", "2", "2", "1", "2"]  # the classes are 0 and 1: key 1 says 0, key 2 says 1
    for key in keys:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("5 answer(s) recorded by alice")
    given = answers(team.worker, "synth", url=team.url).set_index("id")
    assert given.loc[shown[:5], "label"].tolist() == [str(int(k) - 1) for k in keys]
    assert set(given["reviewer"]) == {"alice"} and len(given) == 5

    page.goto(f"{team.base}/models/synth?show=answered")
    first = page.locator("#queue tr.row").first
    corrected = first.get_attribute("data-id")
    expect(first.locator("td.by")).to_contain_text("by alice")
    was = given.loc[corrected, "label"]
    page.keyboard.press("2" if was == "0" else "1")  # the other class
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("1 answer(s) recorded by alice")
    now = answers(team.worker, "synth", url=team.url).set_index("id")
    assert now.loc[corrected, "label"] != was and len(now) == 5

    page.goto(f"{team.base}/models/synth?show=all")
    shot = tmp_path / "review-page.png"
    page.screenshot(path=str(shot))
    if os.environ.get("RETRAIN_DOCS_SCREENSHOTS"):  # RETRAIN_DOCS_SCREENSHOTS=1 refreshes the README picture
        shutil.copy(shot, DOCS / "review-page.png")

    # another process with another home, the same team state: `retrain feedback` counts the answers
    rows = team.rows
    auto = rows[rows["route"] == "auto"]
    truth = team.month.set_index(rows["id"])["label"]
    labels = tmp_path / "labels.csv"
    auto.assign(label=truth.loc[auto["id"]].to_numpy())[["id", "label"]].to_csv(labels, index=False)
    other_home = tmp_path / "analyst"
    done = subprocess.run(
        [sys.executable, "-m", "retrain.cli", "feedback", str(team.config_path), str(labels), "--json"],
        env=team.child_env(**team.env, RETRAIN_HOME=str(other_home)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode in (0, 9), done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["review_answers"] == 5 and verdict["labelled_rows"] == len(auto) + 5
    assert not (other_home / "labels.db").exists() and not (other_home / "review.db").exists()


def test_bad_input_gets_a_clear_message_and_records_nothing(team, signed_in):
    from serving.review_queue import answers

    bob = signed_in("bob")
    token = csrf_of(bob.get("/models/synth").text)
    pending = queue(team, pending_only=True)["id"].tolist()
    before = answers(team.worker, "synth", url=team.url)

    def send(**fields):
        return bob.post("/models/synth/answers", data={"csrf": token, **fields})

    unknown = send(**{f"label:{pending[0]}": "1", "label:no-such-row": "1"})
    assert unknown.status_code == 400 and "&#39;no-such-row&#39; is not in the review queue" in unknown.text
    banana = send(**{f"label:{pending[0]}": "banana"})
    assert banana.status_code == 400
    assert f"row {pending[0]}: label &#39;banana&#39; is not one of the model&#39;s classes" in banana.text
    forged = bob.post("/models/synth/answers", data={"csrf": "guessed", f"label:{pending[0]}": "1"})
    assert forged.status_code == 400 and "the form expired" in forged.text
    assert answers(team.worker, "synth", url=team.url).equals(before)  # nothing half-written

    form = {f"label:{pending[0]}": "1", f"seen:{pending[0]}": "", "reviewer": "mallory"}
    assert send(**form).status_code == 303
    again = send(**form)  # the same form sent twice
    assert again.status_code == 409 and "no longer unanswered" in again.text and "by bob" in again.text
    after = answers(team.worker, "synth", url=team.url).set_index("id")
    assert after.loc[pending[0], "reviewer"] == "bob" and len(after) == len(before) + 1


def test_the_prefect_ui_lists_the_queue_per_model_with_a_link_to_the_page(team, monkeypatch):
    import httpx
    from prefect import flow
    from prefect.settings import PREFECT_API_URL

    from base.settings import load_config
    from flows.common import publish_review_queue

    for key, value in team.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RETRAIN_REVIEW_URL", team.base)

    @flow
    def publish(config_path: str) -> None:
        publish_review_queue(load_config(config_path))

    publish(str(team.config_path))
    sizes = queue(team)
    waiting, answered = int(sizes["label"].isna().sum()), int(sizes["label"].notna().sum())
    body = {"artifacts": {"key": {"any_": ["review-queue"]}}, "sort": "CREATED_DESC", "limit": 1}
    found = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)  # as a UI page reads it
    markdown = found.json()[0]["data"]
    assert f"[{team.base}]({team.base})" in markdown
    assert f"| [synth]({team.base}/models/synth) | {waiting} | {answered} |" in markdown
