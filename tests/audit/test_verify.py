"""The hash chain: tampering behind abf's back (SQL) is found and named by
`audit verify`; no code path changes or deletes an event."""
import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AppendOnlyError, AuditEvent, ChainHead
from audit.services import record_event, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(operator):
    return [record_event(operator, "memory.saved", None, {"content": f"note {i}", "value": i / 3}) for i in range(5)]


def sql(statement, *params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def run_verify(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    return exit_info.value.code, capsys.readouterr().err


def test_an_intact_chain_verifies_and_prints_its_head(chain, capsys):
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "OK: 5 events" in out and chain[-1].hash in out
    assert chain[0].prev_hash == "0" * 64 and all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:]))


def test_a_row_changed_with_sql_is_named(chain, capsys):
    sql("UPDATE audit_auditevent SET payload_json = %s WHERE seq = 3", '{"content":"forged"}')
    code, err = run_verify(capsys)
    assert code == 1 and "Event #3" in err and "changed" in err


def test_a_changed_actor_is_found_too(chain, capsys):
    sql("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE seq = 2")
    assert verify_chain().broken_seq == 2


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(chain):
    forged = AuditEvent.objects.get(seq=2)
    forged.payload_json = '{"content":"forged"}'
    from audit.services import event_hash

    sql("UPDATE audit_auditevent SET payload_json = %s, hash = %s WHERE seq = 2", forged.payload_json, event_hash(forged))
    report = verify_chain()
    assert report.broken_seq == 3 and "does not follow" in report.message


def test_a_deleted_row_is_named(chain, capsys):
    sql("DELETE FROM audit_auditevent WHERE seq = 4")
    code, err = run_verify(capsys)
    assert code == 1 and "#4 is missing" in err


def test_deleting_the_newest_rows_is_found_by_the_head(chain):
    sql("DELETE FROM audit_auditevent WHERE seq >= 4")
    report = verify_chain()
    assert not report.ok and report.broken_seq == 4 and "#4 to #5 are missing" in report.message


def test_reordered_rows_are_found(chain):
    sql("UPDATE audit_auditevent SET seq = 100 WHERE seq = 2")
    sql("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
    sql("UPDATE audit_auditevent SET seq = 3 WHERE seq = 100")
    assert verify_chain().broken_seq == 2


def test_each_verification_is_kept_for_admin(chain):
    verify_chain()
    sql("UPDATE audit_auditevent SET outcome = 'x' WHERE seq = 1")
    verify_chain()
    from audit.models import Verification

    latest, earlier = Verification.objects.all()[:2]
    assert (earlier.ok, latest.ok, latest.broken_seq) == (True, False, 1)


def test_no_code_path_updates_or_deletes_events(chain):
    event = chain[0]
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(outcome="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert verify_chain().ok


def test_appends_continue_the_chain_after_the_head_was_lost(chain):
    ChainHead.objects.all().delete()
    event = record_event(None, "run.ended", None, {})
    assert (event.seq, event.prev_hash) == (6, chain[-1].hash)
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain(operator):
    import threading

    from django.db import close_old_connections

    errors = []

    def write(n):
        try:
            for i in range(10):
                record_event(None, "run.ended", None, {"writer": n, "i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 41))
    assert verify_chain().ok
