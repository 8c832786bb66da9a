"""The EPICS provider: live values of the PVs a request names, read-only,
through pyepics, from a caproto IOC on loopback."""
import epics
import pytest

from providers.data_sources import EpicsValuesProvider, pv_names_in
from providers.services import check_health, retrieve_all_context
from tests import epics_ioc as ioc_values
from tests.providers.fakes import ask


@pytest.mark.parametrize(
    "text, names",
    [
        ("Is SR:RF:CAV3:TEMP above 40?", ["SR:RF:CAV3:TEMP"]),
        ("read SR:MAG:Q1.VAL. Then SR:MAG:Q1.VAL again", ["SR:MAG:Q1.VAL"]),
        ("caget('TEST:BEAM:CURRENT'), (LI:BPM-2:X)", ["TEST:BEAM:CURRENT", "LI:BPM-2:X"]),
        ("gauge IG-07-2 reads high since 12:30:05", []),
        ("lower case sr:rf:cav3 is not a PV name here, nor http://HOST:80", []),
        ("no PVs at all", []),
    ],
)
def test_pv_names_are_found_in_the_request(text, names):
    assert pv_names_in(text) == names


def test_it_answers_only_requests_that_name_pvs():
    provider = EpicsValuesProvider()
    assert provider.should_respond(ask("what is TEST:BEAM:CURRENT?"))
    assert not provider.should_respond(ask("is gauge IG-07-2 ok?"))


@pytest.fixture
def no_writes(monkeypatch):
    """Any Channel Access write fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the EPICS provider wrote to a PV")

    monkeypatch.setattr(epics.ca, "put", refuse)


@pytest.mark.slow
def test_reads_live_values_from_an_ioc(epics_ioc, no_writes):
    provider = EpicsValuesProvider(connection_timeout=0.5, max_elements=2)
    request = ask("Compare TEST:BEAM:CURRENT with TEST:MAG:Q1:SETPT, TEST:BPM:X and TEST:NO:SUCH:PV")
    result = retrieve_all_context(request, [provider], record=False)

    assert result.succeeded == ["epics_values"], result.failed
    (context,) = result.contexts
    assert context.summary == "3 of 4 PVs read"
    assert context.data["TEST:BEAM:CURRENT"] == {
        "value": pytest.approx(ioc_values.BEAM_CURRENT), "units": "mA", "severity": "NO_ALARM",
    }
    assert context.data["TEST:MAG:Q1:SETPT"]["ctrl_limits"] == list(ioc_values.Q1_LIMITS)
    assert context.data["TEST:BPM:X"]["value"] == pytest.approx(ioc_values.BPM_X[:2])
    assert context.data["TEST:BPM:X"]["elements"] == 3
    assert context.data["TEST:NO:SUCH:PV"] == {"error": "not connected within 0.5 s"}
    assert result.timings_ms["epics_values"] < 1000

    prompt = result.format_for_prompt()
    assert "TEST:BEAM:CURRENT = 401.7 mA" in prompt
    assert "TEST:MAG:Q1:SETPT = 12.5 A (limits 0.0 to 50.0)" in prompt
    assert "TEST:NO:SUCH:PV: unavailable (not connected within 0.5 s)" in prompt


@pytest.mark.slow
def test_only_the_first_max_pvs_are_read(epics_ioc):
    provider = EpicsValuesProvider(max_pvs=1)
    result = retrieve_all_context(ask("TEST:BEAM:CURRENT and TEST:MAG:Q1:SETPT"), [provider], record=False)
    (context,) = result.contexts
    assert list(context.data) == ["TEST:BEAM:CURRENT"]
    assert context.summary == "1 of 1 PVs read; 1 more named, not read"


@pytest.mark.slow
def test_health_check_reads_the_health_pv(epics_ioc):
    healthy, = check_health([EpicsValuesProvider(health_pv="TEST:BEAM:CURRENT")], record=False)
    assert healthy.ok is True
    sick, = check_health([EpicsValuesProvider(health_pv="TEST:GONE", connection_timeout=0.2)], record=False)
    assert sick.ok is False and sick.error == "RuntimeError: TEST:GONE: not connected within 0.2 s"
