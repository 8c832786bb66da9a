"""The web process restarts while a reviewer's page is open: the page
reconnects by itself and its snapshot shows what was requested meanwhile,
without a reload. In real headless Chromium, on the production config."""
import pytest

from approvals import services
from tests.approvals.test_review_browser import CHROMIUM, browser, logged_in_page, wait_live  # noqa: F401
from tests.conftest import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it with apt)"),
]


def test_pages_reconnect_and_resync_after_a_web_restart(deployment, browser, operator, reviewer):  # noqa: F811
    web = deployment.webs[0]
    page = logged_in_page(browser, web, reviewer, "/approvals/")
    wait_live(page)
    page.evaluate("window.notReloaded = true")

    web.stop()
    page.wait_for_selector("#live-status:text('reconnecting')")
    run = services.submit_run(operator, 'print("while the web was down")')
    approval = wait_for(lambda: run.approvals.first(), message="the approval request")
    web.start()

    page.wait_for_selector(f"#pending tr[data-id='{approval.pk}']", timeout=30_000)
    wait_live(page)
    assert page.evaluate("window.notReloaded") is True

    # Live pushes work again on the new process.
    second = services.submit_run(operator, 'print("after")')
    approval = wait_for(lambda: second.approvals.first(), message="the second approval request")
    page.wait_for_selector(f"#pending tr[data-id='{approval.pk}']")
