"""The operator's run page in real headless Chromium, against the real web
server and a real django-q cluster: output streams in while the step runs,
the elapsed time ticks, and the Cancel button stops a step."""
import time

import pytest

from approvals import services
from execution.models import ExecutionArtifact, ExecutionRecord
from tests.approvals.test_review_browser import ARTIFACTS, CHROMIUM, browser, logged_in_page, wait_live  # noqa: F401
from tests.conftest import wait_for
from tests.factories import make_step
from tests.execution.artifact_factories import SVG_WITH_SCRIPT, add_artifact, add_usual_artifacts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it with apt)"),
]

TICKING = "import time\nfor i in range(8):\n    print(f'line {i}', flush=True)\n    time.sleep(0.5)"
SLEEPING = "import time\nprint('waiting for the beam', flush=True)\ntime.sleep(120)"


def execution_of(run):
    return wait_for(lambda: ExecutionRecord.objects.filter(step__plan__run=run).first(), message="the execution")


def test_output_streams_live_the_time_ticks_and_cancel_stops_it(q_cluster, web_server, browser, operator):
    run = services.submit_run(operator, TICKING)
    page = logged_in_page(browser, web_server, operator, f"/runs/{run.pk}/")
    wait_live(page)
    record = execution_of(run)
    section = f"#execution-{record.pk}"

    page.wait_for_selector(f"{section} pre.stdout:has-text('line 2')")
    assert ExecutionRecord.objects.get(pk=record.pk).state == "running"  # shown before the step ended
    assert page.is_visible(f"{section} .running .spinner")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "run-page-running.png"), full_page=True)
    first = page.inner_text(f"{section} .elapsed")
    time.sleep(1.2)
    assert page.inner_text(f"{section} .elapsed") != first  # ticking

    page.wait_for_selector("#run-status:text('finished')", timeout=30_000)
    page.wait_for_selector(f"{section}[data-state=succeeded]")
    output = page.inner_text(f"{section} pre.stdout")
    assert [line for line in output.splitlines() if line.startswith("line")] == [f"line {i}" for i in range(8)]
    assert not page.is_visible(f"{section} .running")

    # A second run is stopped from its Cancel button.
    run = services.submit_run(operator, SLEEPING)
    page.goto(f"{web_server.url}/runs/{run.pk}/")
    wait_live(page)
    record = execution_of(run)
    section = f"#execution-{record.pk}"
    page.wait_for_selector(f"{section} pre.stdout:has-text('waiting for the beam')")
    page.click(f"{section} form.cancel button")
    page.wait_for_selector("text=Cancelling step 1")
    page.wait_for_selector(f"{section} .badge:text('cancelled')", timeout=20_000)
    page.wait_for_selector("#run-status:text('failed')")
    assert not page.is_visible(f"{section} form.cancel")
    page.screenshot(path=str(ARTIFACTS / "run-page-cancelled.png"), full_page=True)


def test_a_page_opened_mid_run_shows_the_output_so_far_then_the_rest_once(q_cluster, web_server, browser, operator):
    run = services.submit_run(operator, TICKING)
    record = execution_of(run)
    wait_for(lambda: "line 2" in ExecutionRecord.objects.get(pk=record.pk).stdout, timeout=30, message="three lines printed")
    page = logged_in_page(browser, web_server, operator, f"/runs/{run.pk}/")
    section = f"#execution-{record.pk}"
    page.wait_for_selector(f"{section}[data-state=running] pre.stdout:has-text('line 0')")
    page.wait_for_selector(f"{section}[data-state=running] pre.stdout:has-text('line 5')")
    shown = page.inner_text(f"{section} pre.stdout").splitlines()
    assert shown[:6] == [f"line {i}" for i in range(6)] and len(shown) == len(set(shown))  # nothing twice
    page.wait_for_selector(f"{section}[data-state=succeeded]", timeout=30_000)
    assert page.inner_text(f"{section} pre.stdout").splitlines() == [f"line {i}" for i in range(8)]


def test_figures_show_inline_and_an_svg_opened_alone_runs_no_script(web_server, browser, operator):
    step = make_step(operator, 'print("drawn")')
    run = step.plan.run
    record = ExecutionRecord.objects.create(step=step, code=step.code, state="succeeded", stdout="drawn\n", exit_code=0)
    add_usual_artifacts(record)
    svg = add_artifact(record, "figure-2.svg", ExecutionArtifact.Kind.FIGURE, "image/svg+xml", SVG_WITH_SCRIPT)

    page = logged_in_page(browser, web_server, operator, f"/runs/{run.pk}/")
    wait_live(page)
    section = f"#execution-{record.pk}"
    page.wait_for_selector(f"{section} img[alt='figure-2.svg']")
    widths = page.eval_on_selector_all(f"{section} img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert widths == [1, 40]  # both decoded: the headers do not stop the page showing them
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "run-page-figures.png"), full_page=True)

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{web_server.url}/executions/{record.pk}/files/{svg.name}")
    page.wait_for_timeout(500)
    assert page.title() != "svg script ran"
    assert not [url for url in requests if "svg-script-ran" in url]
