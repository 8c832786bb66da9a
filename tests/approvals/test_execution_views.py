"""Executions on the run page and in the reviewer's history: state, output,
figures and notebooks, with their empty states (as the server renders them;
the live part is in test_run_page_browser.py)."""
import nbformat
import pytest

from approvals import services
from approvals.models import ApprovalRequest
from execution.models import ExecutionRecord
from tests.conftest import make_user
from tests.execution.artifact_factories import add_usual_artifacts
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db


def execute(approval, state=ExecutionRecord.State.SUCCEEDED, **fields):
    step = approval.run.plan.steps.get()
    return ExecutionRecord.objects.create(step=step, code=step.code, state=state, **fields)


def test_a_running_step_shows_the_indicator_elapsed_time_and_cancel_for_its_owner(client, operator, reviewer):
    _, approval = make_waiting_run(operator)
    execute(approval, ExecutionRecord.State.RUNNING)
    client.force_login(operator)
    page = client.get(approval.run.get_absolute_url()).content.decode()
    assert 'class="running"' in page and 'class="elapsed" data-started=' in page
    assert "No output yet." in page
    assert 'class="cancel"' in page and "const CAN_CANCEL = true;" in page
    assert 'class="muted no-figures"' not in page  # it may still draw some

    client.force_login(reviewer)
    page = client.get(approval.run.get_absolute_url()).content.decode()
    assert 'class="running"' in page and 'class="cancel"' not in page and "const CAN_CANCEL = false;" in page


def test_a_finished_step_shows_its_figures_inline_and_links_its_notebooks(client, operator):
    _, approval = make_waiting_run(operator)
    record = execute(approval, stdout="<b>beam</b> ok\n", exit_code=0, duration_ms=120)
    files = add_usual_artifacts(record)
    client.force_login(operator)
    page = client.get(approval.run.get_absolute_url()).content.decode()
    figure = f"/executions/{record.pk}/files/figure-1.png"
    assert f'<img src="{figure}" alt="figure-1.png">' in page
    assert f'href="/executions/{record.pk}/files/{files["notebook"].name}" download' in page
    assert f'href="/executions/{record.pk}/files/{files["source"].name}" download' in page
    assert "&lt;b&gt;beam&lt;/b&gt; ok" in page and "<b>beam</b>" not in page
    assert 'class="running"' not in page and 'class="cancel"' not in page


def test_a_quiet_step_without_figures_says_so(client, operator):
    _, approval = make_waiting_run(operator)
    execute(approval, exit_code=0)
    client.force_login(operator)
    page = client.get(approval.run.get_absolute_url()).content.decode()
    assert '<p class="empty">The step printed nothing.</p>' in page
    assert '<p class="muted no-figures">No figures: the code drew none.</p>' in page


def test_the_reviewer_downloads_the_code_under_review_as_a_notebook(client, operator, reviewer):
    _, approval = make_waiting_run(operator, code="from epics import caget\nprint(caget('SR:CURRENT'))")
    client.force_login(reviewer)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert f'href="/approvals/{approval.pk}/notebook/"' in page and "Download as notebook" in page
    assert "What this approval ran" not in page  # pending: nothing ran

    response = client.get(f"/approvals/{approval.pk}/notebook/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ipynb+json"
    assert response["Content-Disposition"] == f'attachment; filename="approval-{approval.pk}-step-1.ipynb"'
    notebook = nbformat.reads(response.content.decode(), as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[-1].source == "from epics import caget\nprint(caget('SR:CURRENT'))"
    assert f"approval #{approval.pk}" in notebook.cells[0].source


def test_the_edited_version_downloads_too(client, operator, reviewer):
    _, approval = make_waiting_run(operator, code='print("draft")')
    services.decide(approval, reviewer, approve=True, edited="from epics import caget\nprint(caget('SR:CURRENT'))")
    client.force_login(operator)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert f'href="/approvals/{approval.pk}/notebook/?version=edited"' in page
    response = client.get(f"/approvals/{approval.pk}/notebook/?version=edited")
    assert response["Content-Disposition"] == f'attachment; filename="approval-{approval.pk}-step-1-edited.ipynb"'
    notebook = nbformat.reads(response.content.decode(), as_version=4)
    assert notebook.cells[-1].source == "from epics import caget\nprint(caget('SR:CURRENT'))"
    assert "line 2: Reads PV 'SR:CURRENT'" in notebook.cells[0].source  # what the analysis found on the edit


def test_notebook_downloads_are_refused_to_strangers_and_for_what_has_no_code(client, operator, reviewer):
    _, approval = make_waiting_run(operator)
    client.force_login(make_user("otto", services.OPERATORS_GROUP))
    assert client.get(f"/approvals/{approval.pk}/notebook/").status_code == 404
    assert "Download as notebook" not in client.get(approval.get_absolute_url()).content.decode()
    client.force_login(reviewer)
    assert client.get(f"/approvals/{approval.pk}/notebook/?version=edited").status_code == 404  # no edit
    plan = ApprovalRequest.objects.create(run=approval.run, interrupt_key="plan", kind="plan", requester=operator)
    assert client.get(f"/approvals/{plan.pk}/notebook/").status_code == 404
    client.logout()
    assert client.get(f"/approvals/{approval.pk}/notebook/").status_code == 302


def test_the_reviewer_looks_back_at_what_their_approval_ran(client, operator, reviewer):
    _, approval = make_waiting_run(operator)
    services.decide(approval, reviewer, approve=True)
    client.force_login(reviewer)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "What this approval ran" in page and "Nothing has run yet." in page

    record = execute(approval, stdout="orbit corrected\n", exit_code=0, approved_by=reviewer)
    add_usual_artifacts(record)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert f'id="execution-{record.pk}"' in page and "succeeded" in page and "orbit corrected" in page
    assert f'<img src="/executions/{record.pk}/files/figure-1.png"' in page
    assert "Executed notebook" in page
    assert 'class="cancel"' not in page
