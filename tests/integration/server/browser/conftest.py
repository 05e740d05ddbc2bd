"""A real headless Chromium driving the Prefect UI of the parent folder's test server.

Playwright for Python drives Debian's ``/usr/bin/chromium`` (``.ci/run`` installs it); a
browser downloaded by ``playwright install`` is never used. These tests never skip: without
Chromium they fail and say how to get it.

One browser per module and a fresh context (cookies, storage) per test. When a test fails,
a full-page screenshot and the page's HTML land in its ``tmp_path`` and the report names them.

``run_deployment_from_ui(page, base_url, "flow/deployment", {"param": value})`` does what a
person does in the UI: open the deployment from the Deployments list, "Run ▸ Custom run", fill
each parameter by its label (text, number, switch for booleans, the type tabs of an optional
parameter), submit, and return the id of the flow run the form created.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

SUBMIT_ATTEMPTS = 3
WAIT_MS = 30_000  # a busy 2-core machine renders the UI slowly; a deadline, not a speed claim
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# the tab of an optional parameter's type selector that holds a value of each Python type
TYPE_TABS = {
    type(None): ("None", "null"),
    bool: ("bool", "boolean"),
    int: ("int", "integer"),
    float: ("float", "number"),
    str: ("str", "string"),
}


@pytest.fixture
def page(browser, tmp_path):
    """A page in a fresh browser context; ``tmp_path`` receives the failure screenshot."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test that used ``page``: save what the browser showed, and say where."""
    report = yield
    page, tmp_path = item.funcargs.get("page"), item.funcargs.get("tmp_path")
    if report.when == "call" and report.failed and page is not None and tmp_path is not None:
        shot, html = tmp_path / "failure.png", tmp_path / "failure.html"
        try:
            page.screenshot(path=str(shot), full_page=True)
            html.write_text(page.content())
            report.sections.append(("browser", f"page: {page.url}\nscreenshot: {shot}\nhtml: {html}"))
        except Exception as exc:  # a crashed page must not hide the test's own failure
            report.sections.append(("browser", f"could not capture the page: {exc!r}"))
    return report


def open_deployment(page, base_url: str, deployment_name: str) -> str:
    """From the UI's home, open ``flow/deployment`` through the Deployments list; returns its id."""
    from playwright.sync_api import expect

    flow_name, name = deployment_name.split("/", 1)
    page.goto(base_url.rstrip("/") + "/")
    page.get_by_role("link", name="Deployments", exact=True).click()
    page.get_by_placeholder("Search deployments").fill(name)
    # the search applies after a debounce by rewriting the URL; clicking a row before that
    # lets the rewrite carry the browser back to the list
    page.wait_for_url(lambda url: "flowOrDeploymentName=" in url)
    row = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("link", name=flow_name, exact=True))
        .filter(has=page.get_by_role("link", name=name, exact=True))
    )
    expect(row).to_have_count(1)
    row.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(re.compile(rf"/deployments/deployment/{UUID}"))
    return re.search(UUID, page.url).group(0)


def parameter_block(page, name: str):
    """The form block of one parameter: its label (``name`` or ``name (Optional)``) and input."""
    label = page.locator("form label").filter(has_text=re.compile(rf"^{re.escape(name)}( \(Optional\))?$"))
    return label.locator("xpath=ancestor::div[fieldset][1]")


def fill_parameter(page, name: str, value: Any) -> None:
    """Set one parameter the way a person would; union types pick the tab of ``value``'s type."""
    from playwright.sync_api import expect

    block = parameter_block(page, name)
    expect(block).to_have_count(1)
    if block.get_by_role("tab").count():  # e.g. ``int | None``: choose the member first
        candidates = TYPE_TABS.get(type(value))
        if candidates is None:
            raise TypeError(f"cannot fill {name!r} with a {type(value).__name__}")
        tabs = [block.get_by_role("tab", name=c, exact=True) for c in candidates]
        tab = next((t for t in tabs if t.count()), None)
        if tab is None:
            raise AssertionError(f"parameter {name!r} offers no tab for a {type(value).__name__}")
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        if value is None:
            return
        block = block.get_by_role("tabpanel")  # only the selected panel is visible
    if isinstance(value, bool):
        switch = block.get_by_role("switch")
        if (switch.get_attribute("aria-checked") == "true") != value:
            switch.click()
        expect(switch).to_have_attribute("aria-checked", "true" if value else "false")
    elif isinstance(value, (int, float)):
        field = block.locator("input[type=number]")
        field.fill(str(value))
        expect(field).to_have_value(str(value))
    elif isinstance(value, str):
        field = block.locator("textarea, input:not([type=number]):not([type=checkbox])").first
        field.fill(value)
        expect(field).to_have_value(value)
    else:
        raise TypeError(f"cannot fill {name!r} with a {type(value).__name__}")


def run_deployment_from_ui(page, base_url: str, deployment_name: str, params: dict[str, Any]) -> str:
    """Open ``flow/deployment``, "Run ▸ Custom run", fill ``params`` by label, submit; the run's id.

    Parameters not in ``params`` keep the deployment's defaults. The id comes from the
    server's answer to the form's ``create_flow_run`` request; the UI must confirm the run too.
    """
    from playwright.sync_api import expect

    deployment_id = open_deployment(page, base_url, deployment_name)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    page.wait_for_url(re.compile(rf"/deployments/deployment/{deployment_id}/run"))
    expect(page.get_by_role("heading", name="Parameters")).to_be_visible()
    for name, value in params.items():
        fill_parameter(page, name, value)
    created = f"/deployments/{deployment_id}/create_flow_run"
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(created)) as answer:
            page.get_by_role("button", name="Submit", exact=True).click()
        response = answer.value
        # 503 is the server's "retry": its SQLite was busy and nothing was written; submit again
        if response.status != 503 or attempt == SUBMIT_ATTEMPTS:
            break
        page.wait_for_timeout(1000 * attempt)
    assert response.ok, f"the server refused the run: {response.status} {response.text()}"
    run = response.json()
    expect(page.get_by_text(f"{run['name']} scheduled to start")).to_be_visible()
    return run["id"]


@pytest.fixture(scope="session", name="run_deployment_from_ui")
def run_deployment_from_ui_fixture():
    """:func:`run_deployment_from_ui` for tests (conftest modules are not importable by name)."""
    return run_deployment_from_ui


@pytest.fixture(scope="module")
def ui_url(prefect_server) -> str:
    """Where a person opens the Prefect UI of this module's server."""
    return prefect_server.ui_url
