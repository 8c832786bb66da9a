"""/providers/: what context a request would get, per provider, with timings."""
import pytest

from tests.providers.fakes import make_provider

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.providers.urls")]


def test_the_page_needs_login(client):
    response = client.get("/providers/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_lists_every_provider(client, operator, settings):
    settings.ABF_DATA_SOURCES = {"recent_executions": {"enabled": False}}
    client.force_login(operator)
    page = client.get("/providers/").content.decode()
    assert "epics_values" in page and "recent_executions" in page
    assert 'id="outcomes"' not in page


def test_a_query_shows_each_providers_outcome_and_the_prompt(client, operator, only_providers):
    only_providers(
        make_provider("fast", result="<b>beam</b> 401.7 mA"),
        make_provider("slow", delay=5, timeout=0.1),
        make_provider("raises", error=RuntimeError("archiver down")),
        make_provider("silent", respond=False),
    )
    client.force_login(operator)
    response = client.get("/providers/", {"q": "how is the beam?"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "s-succeeded" in page and "s-timed_out" in page and "s-failed" in page
    assert "timeout: no answer within 0.1 s" in page and "error: RuntimeError: archiver down" in page
    assert "Nothing in the request for it." in page
    assert "&lt;b&gt;beam&lt;/b&gt; 401.7 mA" in page and "<b>beam</b>" not in page
    assert " ms" in page and 'id="prompt"' in page


def test_a_blank_query_is_refused(client, operator):
    client.force_login(operator)
    response = client.get("/providers/", {"q": "   "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
