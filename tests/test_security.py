"""The security sweep: every page, API and socket refuses anonymous users
(except login and health), every page is escaped and cannot be framed."""
import asyncio
import re

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, URLResolver, get_resolver

from abf_site.asgi import application
from abf_site.routing import websocket_urlpatterns
from approvals.models import ApprovalRequest
from execution.models import ExecutionArtifact, ExecutionRecord
from memory.services import save_memory
from tests.conftest import make_user
from tests.factories import make_waiting_run

PUBLIC = {"login", "logout", "healthz", "admin:login", "admin:logout"}
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
CONVERTER_VALUES = {"int": "1", "str": "x", "path": "x/y", "slug": "x"}


def all_url_patterns(resolver=None, prefix="", namespace=""):
    """(route, name) of every URL pattern, with converters filled in."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from all_url_patterns(entry, prefix + route, inner)
        elif isinstance(entry, URLPattern):
            yield prefix + route, f"{namespace}{entry.name}" if entry.name else ""


def concrete(route):
    """A path a browser could ask for, from a route or a regex pattern."""
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTER_VALUES[m.group(1) or "str"], route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # admin's regex routes
    route = route.lstrip("^").rstrip("$").replace("\\", "")
    return "/" + route


PATTERNS = sorted({(concrete(route), name) for route, name in all_url_patterns()})
PROTECTED = [(path, name) for path, name in PATTERNS if name not in PUBLIC]


def test_the_sweep_sees_every_app():
    paths = [path for path, _ in PATTERNS]
    for expected in ("/runs/", "/approvals/1/", "/api/runs/", "/memory/", "/providers/", "/executions/1/cancel/", "/admin/"):
        assert expected in paths


@pytest.mark.django_db
def test_only_login_and_health_are_public(client):
    assert {name for _, name in PATTERNS} >= PUBLIC
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path,name", PROTECTED)
def test_anonymous_users_are_refused(client, path, name):
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if response.status_code == 302 and "login" not in response["Location"]:
            response = client.get(response["Location"])  # e.g. / -> /runs/
        refused = response.status_code in (401, 403, 404, 405) or (
            response.status_code == 302 and "login" in response["Location"]
        )
        assert refused, f"{method.upper()} {path} ({name}) answered {response.status_code} to an anonymous user"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", [str(p.pattern) for p in websocket_urlpatterns])
def test_anonymous_sockets_are_refused(route):
    async def connect():
        communicator = WebsocketCommunicator(application, concrete(route), headers=[(b"origin", b"http://localhost")])
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    assert asyncio.run(connect()) == (False, 4401)


@pytest.fixture
def hostile_records(operator):
    """A run, a code approval, an execution with output and a memory note,
    each carrying script in every text a person typed or code printed."""
    run, approval = make_waiting_run(operator, f"print('{XSS}')  # {XSS}")
    step = run.plan.steps.get()
    step.objective = XSS
    step.save()
    approval.reason = XSS
    approval.save()
    record = ExecutionRecord.objects.create(
        step=step, code=step.code, stdout=XSS, stderr=XSS, state=ExecutionRecord.State.FAILED, notes=XSS
    )
    ExecutionArtifact.objects.create(
        execution=record, kind="figure", name="figure-1.svg", content_type="image/svg+xml",
        data=f"<svg xmlns='http://www.w3.org/2000/svg'>{XSS}</svg>".encode(), size=10,
    )
    save_memory(operator, f"note {XSS}")
    return run, approval, record


@pytest.mark.django_db
def test_what_people_typed_and_code_printed_is_escaped_everywhere(client, operator, hostile_records):
    run, approval, record = hostile_records
    reviewer = make_user("rex", "reviewers", is_staff=True, is_superuser=True)
    for user, path in [
        (operator, "/runs/"),
        (operator, f"/runs/{run.pk}/"),
        (operator, "/memory/"),
        (reviewer, "/approvals/"),
        (reviewer, f"/approvals/{approval.pk}/"),
        (reviewer, f"/admin/approvals/run/{run.pk}/change/"),
        (reviewer, f"/admin/approvals/approvalrequest/{approval.pk}/change/"),
        (reviewer, f"/admin/execution/executionrecord/{record.pk}/change/"),
        (reviewer, "/admin/memory/memoryentry/"),
    ]:
        client.force_login(user)
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert response["X-Frame-Options"] == "DENY", path


@pytest.mark.django_db
def test_figures_and_api_cannot_run_script(client, operator, hostile_records):
    run, approval, record = hostile_records
    client.force_login(operator)
    figure = client.get(f"/executions/{record.pk}/files/figure-1.svg")
    assert figure.status_code == 200
    assert "sandbox" in figure["Content-Security-Policy"] and figure["X-Content-Type-Options"] == "nosniff"
    api = client.get(f"/api/runs/{run.pk}/")
    assert api["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_state_changes_need_the_csrf_token(operator, hostile_records):
    from django.test import Client

    run, approval, record = hostile_records
    reviewer = make_user("rosa", "reviewers")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    assert browser.post(f"/approvals/{approval.pk}/", {"decision": "approve"}).status_code == 403
    browser.force_login(operator)
    assert browser.post(f"/executions/{record.pk}/cancel/").status_code == 403
    assert browser.post("/memory/1/delete/").status_code == 403
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.PENDING
