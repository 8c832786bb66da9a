"""The JSON API: POST /api/runs/ and GET /api/runs/<id>/."""
import base64
import json

import pytest

from approvals.models import Run

pytestmark = pytest.mark.django_db


def basic(user):
    token = base64.b64encode(f"{user.username}:pw-{user.username}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def post(client, body, **headers):
    return client.post("/api/runs/", body, content_type="application/json", **headers)


def test_submit_and_read_a_run(client, operator):
    response = post(client, json.dumps({"request": 'print("hi")'}), **basic(operator))
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "queued" and data["request"] == 'print("hi")' and data["user"] == operator.username

    fetched = client.get(f"/api/runs/{data['id']}/", **basic(operator))
    assert fetched.status_code == 200 and fetched.json()["id"] == data["id"]


def test_session_login_works_and_keeps_csrf(operator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = post(client, json.dumps({"request": "print(1)"}))
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    assert not Run.objects.exists()


def test_anonymous_is_refused(client):
    assert post(client, json.dumps({"request": "print(1)"})).status_code == 401
    assert client.get("/api/runs/1/").status_code == 401
    assert not Run.objects.exists()


def test_wrong_password_is_refused(client, operator):
    bad = base64.b64encode(b"olga:nope").decode()
    response = post(client, json.dumps({"request": "print(1)"}), HTTP_AUTHORIZATION=f"Basic {bad}")
    assert response.status_code == 401 and "Wrong username or password" in response.json()["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("{not json", "not valid JSON"),
        ('["print(1)"]', 'JSON object with a "request" string'),
        ('{"request": 42}', 'JSON object with a "request" string'),
        ('{"request": "   "}', "empty"),
        ('{"request": "please fix the orbit"}', "direct planner"),
    ],
)
def test_bad_input_gets_a_clear_error_and_saves_nothing(client, operator, body, message):
    response = post(client, body, **basic(operator))
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Run.objects.exists()


def test_operators_cannot_read_each_others_runs(client, operator):
    from tests.conftest import make_user

    other = make_user("otto", "operators")
    run = Run.objects.create(user=other, request_text="print(1)")
    assert client.get(f"/api/runs/{run.pk}/", **basic(operator)).status_code == 404


def test_list_is_paginated(client, operator):
    for i in range(30):
        Run.objects.create(user=operator, request_text=f"print({i})")
    data = client.get("/api/runs/?page=2", **basic(operator)).json()
    assert (data["count"], data["page"], data["pages"], len(data["results"])) == (30, 2, 2, 5)
