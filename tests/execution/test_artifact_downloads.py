"""Downloading an execution's figures and notebooks: who may, and how they are served."""
import nbformat
import pytest
from django.contrib.auth.models import Group

from approvals import services
from approvals.models import ApprovalRequest
from execution.models import ExecutionArtifact
from tests.conftest import make_user
from tests.execution.artifact_factories import PNG, SVG_WITH_SCRIPT, add_artifact, add_usual_artifacts, make_execution

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(operator):
    record = make_execution(operator)
    return record, add_usual_artifacts(record)


def url(artifact):
    return f"/executions/{artifact.execution_id}/files/{artifact.name}"


def test_anonymous_is_sent_to_login(client, files):
    response = client.get(url(files[1]["figure"]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_operator_gets_nothing(client, files):
    client.force_login(make_user("otto", services.OPERATORS_GROUP))
    response = client.get(url(files[1]["figure"]))
    assert response.status_code == 404 and PNG not in response.content


@pytest.mark.parametrize("who", ["owner", "reviewer", "superuser"])
def test_the_owner_and_reviewers_get_the_figure_inline(client, files, operator, reviewer, who):
    user = {"owner": operator, "reviewer": reviewer, "superuser": make_user("sam", is_superuser=True)}[who]
    client.force_login(user)
    response = client.get(url(files[1]["figure"]))
    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="figure-1.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_specialist_reviewer_the_run_was_put_to_may_look_back(client, operator, files):
    record = files[0]
    specialists = Group.objects.create(name="rf-experts")
    ApprovalRequest.objects.create(
        run=record.run, interrupt_key="step-0-code", kind="code", requester=operator, reviewer_group=specialists,
        status="approved",
    )
    client.force_login(make_user("erin", "rf-experts"))
    assert client.get(url(files[1]["figure"])).status_code == 200
    client.force_login(make_user("otis", "vacuum-experts"))
    assert client.get(url(files[1]["figure"])).status_code == 404


@pytest.mark.parametrize("kind", ["notebook", "source"])
def test_notebooks_download_as_ipynb_files_jupyter_opens(client, operator, files, kind):
    client.force_login(operator)
    artifact = files[1][kind]
    response = client.get(url(artifact))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ipynb+json"
    assert response["Content-Disposition"] == f'attachment; filename="{artifact.name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    notebook = nbformat.reads(response.content.decode(), as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[-1].source == 'print("hi")'


def test_a_notebook_stored_without_the_extension_still_downloads_as_ipynb(client, operator, files):
    artifact = add_artifact(files[0], "executed", ExecutionArtifact.Kind.NOTEBOOK, "application/json", b"{}")
    client.force_login(operator)
    assert client.get(url(artifact))["Content-Disposition"] == 'attachment; filename="executed.ipynb"'


def test_an_svg_cannot_run_script_when_opened(client, operator, files):
    svg = add_artifact(files[0], "figure-2.svg", ExecutionArtifact.Kind.FIGURE, "image/svg+xml", SVG_WITH_SCRIPT)
    client.force_login(operator)
    response = client.get(url(svg))
    assert response["Content-Type"] == "image/svg+xml"
    policy = [d.strip() for d in response["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy  # no script, no fetch, no origin
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_figure_claiming_to_be_html_is_only_downloaded(client, operator, files):
    page = add_artifact(files[0], "figure-3.html", ExecutionArtifact.Kind.FIGURE, "text/html", b"<script>alert(1)</script>")
    client.force_login(operator)
    response = client.get(url(page))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_unknown_files_are_404(client, operator, files):
    client.force_login(operator)
    assert client.get(f"/executions/{files[0].pk}/files/figure-9.png").status_code == 404
    assert client.get("/executions/999999/files/figure-1.png").status_code == 404


def test_the_api_lists_files_without_their_bytes_and_keeps_its_fields(client, operator, files):
    record, artifacts = files
    client.force_login(operator)
    execution = client.get(f"/api/runs/{record.run.pk}/").json()["executions"][0]
    assert {"id", "step", "state", "exit_code", "stdout", "stderr", "started_at", "finished_at", "duration_ms",
            "approved_by"} <= set(execution)
    by_name = {a["name"]: a for a in execution["artifacts"]}
    assert by_name["figure-1.png"] == {
        "name": "figure-1.png", "kind": "figure", "content_type": "image/png", "size": len(PNG),
        "url": url(artifacts["figure"]),
    }
    assert by_name[artifacts["notebook"].name]["kind"] == "notebook"
    assert by_name[artifacts["source"].name]["kind"] == "source_notebook"
    assert execution["cancel_requested"] is False
