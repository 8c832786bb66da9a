"""retrieve_all_context: every responding provider at once, each under its
own timeout, each failure reported and isolated."""
import asyncio
import time

import pytest

from providers.base import DataSourceProvider
from providers.models import ProviderStatus
from providers.services import aretrieve_all_context, retrieve_all_context
from tests.providers.fakes import ask, make_provider


def run(*providers, query="status of the ring", user=None):
    started = time.perf_counter()
    result = retrieve_all_context(ask(query, user), [p() for p in providers], record=False)
    return result, time.perf_counter() - started


def test_providers_run_in_parallel():
    result, seconds = run(*(make_provider(f"p{i}", delay=0.1, result=i) for i in range(5)))
    assert result.succeeded == ["p0", "p1", "p2", "p3", "p4"]
    assert [c.data for c in result.contexts] == [0, 1, 2, 3, 4]
    assert seconds < 0.25, f"five 100 ms providers took {seconds:.3f} s"
    assert all(90 <= ms < 250 for ms in result.timings_ms.values())


def test_a_slow_provider_times_out_while_the_others_return():
    result, seconds = run(
        make_provider("fast", delay=0.05, result="beam 401 mA"),
        make_provider("slow", delay=10, timeout=0.3),
    )
    assert seconds < 0.6
    assert result.succeeded == ["fast"] and [c.data for c in result.contexts] == ["beam 401 mA"]
    assert result.timed_out == ["slow"]
    assert result.failed == {"slow": "timeout: no answer within 0.3 s"}
    assert 290 <= result.timings_ms["slow"] < 500


def test_an_exception_is_reported_and_isolated():
    class Broken(DataSourceProvider):
        name = "broken_respond"

        def should_respond(self, request):
            raise KeyError("config")

    class WrongType(DataSourceProvider):
        name = "wrong_type"

        async def retrieve(self, request):
            return {"not": "a context"}

    result, _ = run(
        make_provider("fine", result=1),
        make_provider("raises", error=RuntimeError("archiver unreachable")),
        Broken,
        WrongType,
    )
    assert result.succeeded == ["fine"]
    assert result.failed == {
        "raises": "error: RuntimeError: archiver unreachable",
        "broken_respond": "error: KeyError: 'config'",
        "wrong_type": "error: TypeError: retrieve() returned dict, not a DataSourceContext or None",
    }
    assert result.timed_out == []


def test_a_provider_that_ignores_cancellation_holds_nobody_up():
    class Stubborn(DataSourceProvider):
        name = "stubborn"
        timeout = 0.2

        async def retrieve(self, request):
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await asyncio.sleep(10)  # refuses to stop: asyncio.wait_for would wait for this

    result, seconds = run(Stubborn, make_provider("fine"))
    assert result.timed_out == ["stubborn"] and result.succeeded == ["fine"]
    assert seconds < 0.6


def test_a_hung_blocking_read_holds_nobody_up():
    class Blocking(DataSourceProvider):
        name = "blocking"
        timeout = 0.2

        async def retrieve(self, request):
            await asyncio.to_thread(time.sleep, 2)

    result, seconds = run(Blocking, make_provider("fine"))
    assert result.timed_out == ["blocking"]
    assert seconds < 0.6, "the sync wrapper waited for the provider's thread"


def test_providers_that_do_not_respond_are_skipped():
    result, _ = run(make_provider("answers"), make_provider("silent", respond=False))
    assert result.skipped == ["silent"] and result.succeeded == ["answers"]
    assert "silent" not in result.timings_ms


def test_nothing_to_report_is_a_success_without_a_section():
    class Quiet(DataSourceProvider):
        name = "quiet"

        async def retrieve(self, request):
            return None

    result, _ = run(Quiet)
    assert result.succeeded == ["quiet"] and result.contexts == []
    assert result.format_for_prompt() == ""


def test_the_prompt_has_one_section_per_context():
    result, _ = run(make_provider("a", result={"k": 1}), make_provider("b", error=ValueError("x")))
    prompt = result.format_for_prompt()
    assert prompt.startswith("## Test provider a\na found {'k': 1}\n{\n  \"k\": 1\n}")
    assert "Test provider b" not in prompt


def test_only_requests_are_accepted():
    with pytest.raises(TypeError, match="needs a DataSourceRequest, not str"):
        retrieve_all_context("read SR:RF:CAV3:TEMP", [], record=False)


def test_async_callers_await_the_core():
    providers = [make_provider("a", delay=0.05)(), make_provider("b", delay=0.05)()]

    async def caller():
        with pytest.raises(RuntimeError, match="await the a-prefixed function"):
            retrieve_all_context(ask("x"), providers, record=False)
        return await aretrieve_all_context(ask("x"), providers)

    assert asyncio.run(caller()).succeeded == ["a", "b"]


def test_the_enabled_providers_are_used_by_default(settings, only_providers):
    only_providers(make_provider("on"), make_provider("off"))
    settings.ABF_DATA_SOURCES = {"off": {"enabled": False}}
    assert retrieve_all_context(ask("x"), record=False).succeeded == ["on"]


@pytest.mark.django_db
def test_latency_and_errors_are_kept_for_admin(only_providers):
    only_providers(
        make_provider("fast", delay=0.02),
        make_provider("slow", delay=5, timeout=0.1),
        make_provider("raises", error=RuntimeError("boom")),
        make_provider("silent", respond=False),
    )
    retrieve_all_context(ask("x"))
    status = {s.name: s for s in ProviderStatus.objects.all()}
    assert status["silent"].last_run_at is None  # skipped: it did not run
    assert status["fast"].last_outcome == "succeeded" and status["fast"].last_error == ""
    assert 15 <= status["fast"].last_latency_ms < 200
    assert status["slow"].last_outcome == "timed_out" and status["slow"].last_error.startswith("timeout")
    assert status["raises"].last_error == "error: RuntimeError: boom"
    assert all(status[name].last_run_at for name in ("fast", "slow", "raises"))
    assert status["fast"].description == "Test provider fast" and status["slow"].timeout == 0.1
