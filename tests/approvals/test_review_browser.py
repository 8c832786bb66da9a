"""Reviewers in real headless Chromium, against the real web server and a
real django-q cluster: requests appear and leave without a reload."""
import shutil

import pytest

from approvals import services
from approvals.models import Run
from tests.conftest import ROOT, set_policy, wait_for

CHROMIUM = shutil.which("chromium")
ARTIFACTS = ROOT / "var" / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it with apt)"),
]

@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes alongside it are ordinary blocking calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()


def logged_in_page(browser, server, user, path):
    page = browser.new_context().new_page()
    page.set_default_timeout(20_000)
    page.goto(server.url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-" + user.username)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/runs/")
    page.goto(server.url + path)
    return page


def wait_live(page):
    page.wait_for_selector("#live-status:text('live')")


@pytest.fixture
def stack(q_cluster, web_server, operator, reviewer, second_reviewer, browser):
    set_policy(python_mode="all_code")
    return web_server


def submit(operator, code):
    return services.submit_run(operator, code)


def test_two_reviewers_see_it_live_one_approves_the_operator_sees_the_result(stack, browser, operator, reviewer, second_reviewer):
    rita = logged_in_page(browser, stack, reviewer, "/approvals/")
    raj = logged_in_page(browser, stack, second_reviewer, "/approvals/")
    for page in (rita, raj):
        wait_live(page)
        assert page.is_visible("#pending-empty")

    run = submit(operator, 'print("orbit corrected")')
    olga = logged_in_page(browser, stack, operator, f"/runs/{run.pk}/")
    wait_live(olga)
    approval = wait_for(lambda: run.approvals.first(), message="the approval request")
    row = f"#pending tr[data-id='{approval.pk}']"
    for page in (rita, raj):
        page.wait_for_selector(row)  # pushed: no reload happened
    olga.wait_for_selector("#run-status:text('waiting approval')")

    rita.click(f"{row} a")
    rita.wait_for_selector("text=print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rita.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)
    rita.click("#decide button[value=approve]")
    raj.wait_for_selector(row, state="detached")
    rita.wait_for_selector("#pending-empty", state="visible")

    olga.wait_for_selector("#run-status:text('finished')", timeout=60_000)
    assert "orbit corrected" in olga.inner_text("#executions")
    assert rita.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_reject_with_comment_reaches_the_operator(stack, browser, operator, reviewer):
    run = submit(operator, 'print("never")')
    olga = logged_in_page(browser, stack, operator, f"/runs/{run.pk}/")
    approval = wait_for(lambda: run.approvals.first(), message="the approval request")
    rita = logged_in_page(browser, stack, reviewer, f"/approvals/{approval.pk}/")
    rita.fill("#id_comment", "quadrupole Q4 is under maintenance")
    rita.click("#decide button[value=reject]")
    olga.wait_for_selector("#run-status:text('rejected')", timeout=60_000)
    assert "quadrupole Q4 is under maintenance" in olga.inner_text("#run-message")
    assert not Run.objects.get(pk=run.pk).plan.steps.get().status == "done"


def test_edit_then_approve_shows_new_findings_before_confirming(stack, browser, operator, reviewer):
    run = submit(operator, 'print("first draft")')
    olga = logged_in_page(browser, stack, operator, f"/runs/{run.pk}/")
    approval = wait_for(lambda: run.approvals.first(), message="the approval request")
    rita = logged_in_page(browser, stack, reviewer, f"/approvals/{approval.pk}/")
    rita.click("summary:text('Edit, then approve')")
    rita.fill("textarea[name=edited]", 'from epics import caget\nprint("reviewed version")')
    rita.click("button[value=preview_edit]")
    preview = rita.wait_for_selector("#edit-preview")
    assert "caget" in preview.inner_text()
    rita.click("#edit-preview button[value=approve_edit]")
    olga.wait_for_selector("#run-status:text('finished')", timeout=60_000)
    assert "reviewed version" in olga.inner_text("#executions")
