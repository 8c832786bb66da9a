"""The runtime EPICS write guard, against the caproto test IOC: code runs in
the local executor, writes go through pyepics, every attempt is recorded."""
import epics
import pytest

from execution.models import EpicsWrite, ExecutionRecord, PvLimit
from execution.runner import run_python
from execution.services import execute_step
from tests.epics_ioc import Q1_SETPOINT
from tests.factories import make_step

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

Q1 = "TEST:MAG:Q1:SETPT"


@pytest.fixture
def epics_addresses(settings, epics_ioc):
    """The IOC is on loopback: it is both the 'read' and the 'write' gateway,
    so only the guard stands between a read-only run and a write."""
    settings.ABF_EPICS_READ_ADDR_LIST = ["127.0.0.1"]
    settings.ABF_EPICS_WRITE_ADDR_LIST = ["127.0.0.1"]


@pytest.fixture
def q1(epics_addresses):
    """Q1 at its starting value before and after each test, with a limits row."""
    epics.caput(Q1, Q1_SETPOINT, wait=True)
    limit = PvLimit.objects.create(pv=Q1, writable=True, min_value=0, max_value=50, max_step=2, verification="readback")
    yield limit
    epics.caput(Q1, Q1_SETPOINT, wait=True)


def q1_value():
    return epics.caget(Q1, use_monitor=False, timeout=5)


def test_approved_write_lands_and_is_confirmed_by_readback(operator, q1):
    step = make_step(operator, f"from epics import caput\ncaput({Q1!r}, 13.5, wait=True)\nresults = 'moved'")
    record = execute_step(step, allow_writes=True)

    assert record.state == ExecutionRecord.State.SUCCEEDED, (record.stderr, record.notes)
    assert record.writes_allowed and record.result == "moved"
    write = record.epics_writes.get()
    assert (write.pv, write.requested, write.before, write.readback, write.outcome) == (
        Q1, 13.5, Q1_SETPOINT, 13.5, EpicsWrite.Outcome.CONFIRMED
    )
    assert q1_value() == pytest.approx(13.5)


def test_out_of_range_write_is_refused_and_the_pv_is_unchanged(operator, q1):
    q1.max_step = None
    q1.save()
    step = make_step(operator, f"import epics\nepics.caput({Q1!r}, 80.0, wait=True)")
    record = execute_step(step, allow_writes=True)

    assert record.state == ExecutionRecord.State.REFUSED
    assert "above the maximum 50" in record.error["message"]
    write = record.epics_writes.get()
    assert (write.requested, write.outcome) == (80.0, EpicsWrite.Outcome.REFUSED)
    assert q1_value() == pytest.approx(Q1_SETPOINT)


def test_step_larger_than_max_step_is_refused(operator, q1):
    step = make_step(operator, f"from epics import PV\nPV({Q1!r}).put({Q1_SETPOINT + 5}, wait=True)")
    record = execute_step(step, allow_writes=True)

    assert record.state == ExecutionRecord.State.REFUSED
    assert "exceeds the maximum step 2" in record.error["message"]
    assert record.epics_writes.get().before == Q1_SETPOINT
    assert q1_value() == pytest.approx(Q1_SETPOINT)


# A write hidden from static analysis: the module and function names are
# computed at run time.
HIDDEN_WRITE = (
    "import importlib\n"
    "module = importlib.import_module(''.join(['ep', 'ics']))\n"
    "getattr(module, 'ca' + 'put')(" + repr(Q1) + ", 13.0, wait=True)\n"
)


def test_a_write_hidden_from_analysis_is_refused_in_a_read_only_run(operator, q1):
    record = execute_step(make_step(operator, HIDDEN_WRITE), allow_writes=False)

    assert record.state == ExecutionRecord.State.REFUSED
    assert "no approved write permission" in record.error["message"]
    assert record.epics_writes.get().outcome == EpicsWrite.Outcome.REFUSED
    assert q1_value() == pytest.approx(Q1_SETPOINT)


@pytest.mark.parametrize(
    "code",
    [
        f"import epics\nepics.caput({Q1!r}, 13.0)",
        f"import epics\nepics.caput_many([{Q1!r}], [13.0], wait='each')",
        f"import epics\nepics.PV({Q1!r}).put(13.0, wait=True)",
        f"from epics import ca\nchid = ca.create_channel({Q1!r})\nca.connect_channel(chid)\nca.put(chid, 13.0, wait=True)",
        f"from epics.ca import put, create_channel, connect_channel\nc = create_channel({Q1!r})\nconnect_channel(c)\nput(c, 13.0)",
        f"from epics import Device\nDevice('TEST:MAG:Q1:', attrs=['SETPT']).put('SETPT', 13.0, wait=True)",
    ],
    ids=["caput", "caput_many", "PV.put", "ca.put", "from-import put", "Device.put"],
)
def test_every_pyepics_write_path_is_guarded(q1, code):
    result = run_python(code, allow_writes=False, pv_limits={Q1: q1.as_dict()})
    assert result.status == "refused", result.stderr
    assert [w["outcome"] for w in result.writes] == ["refused"]
    assert q1_value() == pytest.approx(Q1_SETPOINT)


def test_a_pv_missing_from_the_limits_table_is_never_written(epics_addresses):
    result = run_python(f"import epics\nepics.caput({Q1!r}, 13.0, wait=True)", allow_writes=True, pv_limits={})
    assert result.status == "refused"
    assert "not in the write limits table" in result.error["message"]


def test_reads_work_in_a_read_only_run(epics_addresses):
    result = run_python("import epics\nresults = epics.caget('TEST:BEAM:CURRENT', timeout=5)")
    assert result.status == "ok", result.stderr
    assert result.results == pytest.approx(401.7)


def test_a_value_the_ioc_does_not_take_is_recorded_as_a_mismatch(q1):
    # Within our table's limits but beyond the record's drive limit (50):
    # the put completes and the IOC keeps its value.
    q1.max_value, q1.max_step = 100, None
    result = run_python(f"import epics\nepics.caput({Q1!r}, 55.0, wait=True)", allow_writes=True, pv_limits={Q1: q1.as_dict()})
    assert result.status == "ok"
    assert [(w["outcome"], w["readback"]) for w in result.writes] == [("mismatch", Q1_SETPOINT)]


@pytest.mark.parametrize("verification, outcome", [("none", "unrequested"), ("callback", "confirmed")])
def test_verification_levels(q1, verification, outcome):
    q1.verification = verification
    result = run_python(f"import epics\nepics.caput({Q1!r}, 13.0)", allow_writes=True, pv_limits={Q1: q1.as_dict()})
    assert result.status == "ok"
    assert [w["outcome"] for w in result.writes] == [outcome]


# caproto's clients, inside the same kernel: every write path is guarded too.
CAPROTO_SYNC_WRITE = f"from caproto.sync.client import write\nwrite({Q1!r}, 13.0, notify=True, repeater=False)"
CAPROTO_THREADING_WRITE = (
    "from caproto.threading.client import Context\n"
    f"pv, = Context().get_pvs({Q1!r}, timeout=5)\n"
    "pv.wait_for_connection(timeout=5)\n"
    "pv.write([13.0], wait=True)"
)


@pytest.mark.parametrize(
    "code",
    [
        CAPROTO_SYNC_WRITE,
        f"from caproto.sync.client import read_write_read\nread_write_read({Q1!r}, 13.0, notify=True, repeater=False)",
        CAPROTO_THREADING_WRITE,
        f"from caproto.threading.pyepics_compat import PV\npv = PV({Q1!r})\npv.wait_for_connection(timeout=5)\npv.put(13.0, wait=True)",
        (
            "from caproto.threading.client import Batch, Context\n"
            f"pv, = Context().get_pvs({Q1!r}, timeout=5)\n"
            "pv.wait_for_connection(timeout=5)\n"
            "with Batch() as batch:\n    batch.write(pv, [13.0])"
        ),
    ],
    ids=["sync.write", "sync.read_write_read", "threading PV.write", "pyepics_compat put", "threading Batch"],
)
def test_every_caproto_write_path_is_guarded(q1, code):
    result = run_python(code, allow_writes=False, pv_limits={Q1: q1.as_dict()})
    assert result.status == "refused", result.stderr
    assert [w["outcome"] for w in result.writes] == ["refused"]
    assert q1_value() == pytest.approx(Q1_SETPOINT)


@pytest.mark.parametrize("code", [CAPROTO_SYNC_WRITE, CAPROTO_THREADING_WRITE], ids=["sync", "threading"])
def test_an_approved_caproto_write_lands_and_is_confirmed(q1, code):
    result = run_python(code, allow_writes=True, pv_limits={Q1: q1.as_dict()})
    assert result.status == "ok", result.stderr
    assert [(w["pv"], w["before"], w["readback"], w["outcome"]) for w in result.writes] == [
        (Q1, [Q1_SETPOINT], [13.0], "confirmed")
    ]
    assert q1_value() == pytest.approx(13.0)


def test_a_caproto_write_beyond_the_limits_is_refused(q1):
    code = f"from caproto.sync.client import write\nwrite({Q1!r}, 49.0, notify=True, repeater=False)"
    result = run_python(code, allow_writes=True, pv_limits={Q1: q1.as_dict()})
    assert result.status == "refused"
    assert "exceeds the maximum step 2" in result.error["message"]
    assert q1_value() == pytest.approx(Q1_SETPOINT)


def test_the_caproto_batch_path_is_refused_even_with_permission(q1):
    # Batch writes cannot be verified one by one: refused, not sent unchecked.
    code = (
        "from caproto.threading.client import Batch, Context\n"
        f"pv, = Context().get_pvs({Q1!r}, timeout=5)\n"
        "pv.wait_for_connection(timeout=5)\n"
        "with Batch() as batch:\n    batch.write(pv, [13.0])"
    )
    result = run_python(code, allow_writes=True, pv_limits={Q1: q1.as_dict()})
    assert result.status == "refused" and "cannot be checked against the limits" in result.error["message"]
    assert q1_value() == pytest.approx(Q1_SETPOINT)
