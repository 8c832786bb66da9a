"""The My memory page, its API and the admin: owners only, admins all."""
import base64
import json

import pytest
from django.test import Client

from memory import services
from memory.models import MemoryEntry
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(operator):
    other = make_user("otto", "operators")
    mine = services.save_memory(operator, "The RF cavity 3 tuner sticks above 40 °C", source=MemoryEntry.Source.PAGE)
    theirs = services.save_memory(other, "Otto's secret: IG-07-2 reads high", source=MemoryEntry.Source.PAGE)
    return mine, theirs


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def basic(user):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user.username}:pw-{user.username}".encode()).decode()}


def test_page_lists_and_searches_only_my_entries(operator, notes):
    mine, theirs = notes
    page = logged_in(operator).get("/memory/").content.decode()
    assert "cavity 3 tuner" in page
    assert "secret" not in page
    found = logged_in(operator).get("/memory/", {"q": "tuner"}).content.decode()
    assert "cavity 3 tuner" in found


def test_nav_links_to_my_memory(operator):
    assert 'href="/memory/">My memory</a>' in logged_in(operator).get("/runs/").content.decode()


def test_page_needs_login():
    assert Client().get("/memory/").status_code == 302


def test_edit_and_soft_delete_my_entry(operator, notes):
    mine, _ = notes
    client = logged_in(operator)
    response = client.post(f"/memory/{mine.pk}/", {"content": "Cavity 3 tuner sticks above 45 °C", "tags": "rf, tuner"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.content == "Cavity 3 tuner sticks above 45 °C" and mine.tags == ["rf", "tuner"]
    assert client.post(f"/memory/{mine.pk}/delete/").status_code == 302
    mine.refresh_from_db()
    assert mine.deleted_at is not None and mine.deleted_by == operator  # kept for audit
    assert services.get_user_context(operator) == []


def test_nobody_edits_or_deletes_another_users_entry(operator, notes):
    _, theirs = notes
    client = logged_in(operator)
    assert client.get(f"/memory/{theirs.pk}/").status_code == 404
    assert client.post(f"/memory/{theirs.pk}/", {"content": "hacked"}).status_code == 404
    assert client.post(f"/memory/{theirs.pk}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.content == "Otto's secret: IG-07-2 reads high" and theirs.deleted_at is None
    with pytest.raises(PermissionError):
        services.update_memory(theirs, operator, "hacked")
    with pytest.raises(PermissionError):
        services.delete_memory(theirs, operator)


def test_api_owner_only(operator, notes):
    mine, theirs = notes
    client = Client()
    listed = client.get("/memory/api/", **basic(operator)).json()["results"]
    assert [e["id"] for e in listed] == [mine.pk]
    assert client.get(f"/memory/api/{theirs.pk}/", **basic(operator)).status_code == 404
    assert client.delete(f"/memory/api/{theirs.pk}/", **basic(operator)).status_code == 404
    response = client.patch(
        f"/memory/api/{mine.pk}/", json.dumps({"content": "tuner fixed"}), content_type="application/json", **basic(operator)
    )
    assert response.status_code == 200 and response.json()["content"] == "tuner fixed"
    assert client.delete(f"/memory/api/{mine.pk}/", **basic(operator)).status_code == 204
    assert client.get("/memory/api/").status_code == 401


def test_admin_manages_everyones_entries(operator, notes):
    mine, theirs = notes
    admin = make_user("ada", is_superuser=True, is_staff=True)
    client = logged_in(admin)
    listing = client.get("/admin/memory/memoryentry/").content.decode()
    assert "Otto&#x27;s secret" in listing and "cavity 3 tuner" in listing
    response = client.post(f"/admin/memory/memoryentry/{theirs.pk}/change/", {"content": "IG-07-2 fixed", "tags": "[]"})
    assert response.status_code == 302, response.content.decode()[:2000]
    theirs.refresh_from_db()
    assert theirs.content == "IG-07-2 fixed"
    client.post("/admin/memory/memoryentry/", {"action": "soft_delete", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.deleted_at is not None and mine.deleted_by == admin
    assert MemoryEntry.objects.filter(pk=mine.pk).exists()


def test_staff_without_superuser_cannot_manage_others(operator, notes):
    _, theirs = notes
    staff = make_user("stan", is_staff=True)
    assert logged_in(staff).get(f"/admin/memory/memoryentry/{theirs.pk}/change/").status_code in (302, 403)
