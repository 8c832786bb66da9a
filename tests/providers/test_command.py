"""python manage.py providers check | query "..." [--user U] [--json]."""
import json

import pytest
from django.core.management import CommandError, call_command

from providers.base import DataSourceProvider
from providers.management.commands.providers import Command
from providers.models import ProviderStatus
from tests.providers.fakes import make_provider

pytestmark = pytest.mark.django_db


class Sick(DataSourceProvider):
    name = "sick"
    description = "A source that is down"

    async def health_check(self):
        raise ConnectionError("archiver refused the connection")


class Healthy(DataSourceProvider):
    name = "healthy"
    description = "A source that is up"

    async def health_check(self):
        return True


def test_check_lists_every_provider_and_their_health(only_providers, settings, capsys):
    only_providers(Healthy, make_provider("no_check"), make_provider("off"))
    settings.ABF_DATA_SOURCES = {"off": {"enabled": False}}
    call_command("providers", "check")
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["healthy"].split()[1:4] == ["yes", "2s", "ok"]
    assert lines["no_check"].split()[1:4] == ["yes", "2s", "no"]  # "no check"
    assert lines["off"].split()[1:4] == ["no", "2s", "-"]
    assert ProviderStatus.objects.get(name="healthy").last_health_ok is True
    assert ProviderStatus.objects.get(name="off").enabled is False


def test_check_fails_when_an_enabled_provider_is_unhealthy(only_providers, capsys):
    only_providers(Healthy, Sick)
    with pytest.raises(CommandError, match="Unhealthy: sick."):
        call_command("providers", "check")
    assert "ConnectionError: archiver refused the connection" in capsys.readouterr().out
    status = ProviderStatus.objects.get(name="sick")
    assert status.last_health_ok is False and "archiver refused" in status.last_health_error


def test_check_as_json(only_providers, capsys):
    only_providers(Healthy)
    call_command("providers", "check", "--json")
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "healthy" and row["enabled"] and row["health"]["ok"] is True


def test_query_shows_each_provider_with_timings(only_providers, operator, capsys):
    only_providers(
        make_provider("fast", result={"beam": 401.7}),
        make_provider("slow", delay=5, timeout=0.1),
        make_provider("silent", respond=False),
    )
    call_command("providers", "query", "how is the beam?", "--user", operator.username)
    out = capsys.readouterr().out
    assert "3 providers as olga" in out
    assert "fast" in out and "fast found {'beam': 401.7}" in out
    assert "timed_out" in out and "timeout: no answer within 0.1 s" in out
    assert "nothing in the request for it" in out
    assert '"beam": 401.7' in out  # the prompt section


def test_query_as_json(only_providers, capsys):
    only_providers(make_provider("fast", result=[1, 2]), make_provider("raises", error=ValueError("bad")))
    call_command("providers", "query", "x", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["succeeded"] == ["fast"] and data["failed"] == {"raises": "error: ValueError: bad"}
    assert data["providers"][0]["context"]["data"] == [1, 2]
    assert data["providers"][0]["elapsed_ms"] >= 0


@pytest.mark.parametrize(
    "args, message", [(["  "], "query is empty"), (["x", "--user", "nobody"], "No user named 'nobody'")]
)
def test_query_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("providers", "query", *args)


def test_help_explains_the_subcommands():
    parser = Command().create_parser("manage.py", "providers")
    assert "providers check" in parser.format_help() and "ABF_DATA_SOURCES" in parser.format_help()
    subparsers = parser._subparsers._group_actions[0].choices
    assert "--user" in subparsers["query"].format_help()
    assert "unhealthy" in subparsers["check"].format_help()
