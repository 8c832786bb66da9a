"""`memory export|import`: the reference per-user JSON files."""
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from memory import services
from memory.models import MemoryEntry

pytestmark = pytest.mark.django_db

REFERENCE = {
    "user_id": "kim.lee",
    "last_updated": "2026-11-20 08:15",
    "entries": [
        {"timestamp": "2026-11-19 22:04", "content": "Cavity 3 tuner sticks above 40 °C"},
        {"timestamp": "2026-11-20 08:15", "content": "IG-07-2 reads high after every bakeout"},
    ],
}


def write(directory, name, data):
    path = directory / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_import_creates_the_user_as_operator_and_is_idempotent(tmp_path, capsys):
    write(tmp_path, "kimlee.json", REFERENCE)
    call_command("memory", "import", str(tmp_path))
    call_command("memory", "import", str(tmp_path))
    user = get_user_model().objects.get(username="kim.lee")
    assert user.groups.filter(name="operators").exists() and not user.has_usable_password()
    entries = MemoryEntry.objects.filter(owner=user).order_by("created_at")
    assert [e.content for e in entries] == [e["content"] for e in REFERENCE["entries"]]
    assert all(e.source == MemoryEntry.Source.IMPORT and e.embedding for e in entries)
    assert "0 added, 2 already there" in capsys.readouterr().out


def test_export_then_import_round_trip(tmp_path, operator):
    services.save_memory(operator, "BPM 12 is noisy on the vertical plane", source=MemoryEntry.Source.PAGE)
    gone = services.save_memory(operator, "deleted note", source=MemoryEntry.Source.PAGE)
    services.delete_memory(gone, operator)
    call_command("memory", "export", str(tmp_path / "out"))
    data = json.loads((tmp_path / "out" / "olga.json").read_text())
    assert set(data) == {"user_id", "last_updated", "entries"}
    assert data["user_id"] == "olga"
    assert [e["content"] for e in data["entries"]] == ["BPM 12 is noisy on the vertical plane"]
    assert len(data["entries"][0]["timestamp"]) == len("YYYY-MM-DD HH:MM")

    write(tmp_path, "kimlee.json", REFERENCE)
    call_command("memory", "import", str(tmp_path))  # the reference file in
    call_command("memory", "export", "--user", "kim.lee", str(tmp_path / "again"))
    again = json.loads((tmp_path / "again" / "kimlee.json").read_text())  # name: user id reduced
    assert again["entries"] == REFERENCE["entries"] and again["user_id"] == "kim.lee"


def test_export_then_import_into_a_fresh_database_adds_nothing_twice(tmp_path, operator):
    services.save_memory(operator, "Injector kicker 2 needs 30 s to settle", source=MemoryEntry.Source.PAGE)
    call_command("memory", "export", str(tmp_path))
    call_command("memory", "import", "--user", "olga", str(tmp_path))
    assert MemoryEntry.objects.filter(owner=operator).count() == 1


@pytest.mark.parametrize(
    "data, problem",
    [
        ("{not json", "kimlee.json: not a readable JSON file"),
        ([], "kimlee.json: the top level must be an object"),
        ({**REFERENCE, "user_id": ""}, "kimlee.json: user_id: must be a non-empty string"),
        ({**REFERENCE, "entries": {}}, "kimlee.json: entries: must be a list"),
        ({**REFERENCE, "last_updated": "yesterday"}, "kimlee.json: last_updated: 'yesterday' is not YYYY-MM-DD HH:MM"),
        (
            {**REFERENCE, "entries": [REFERENCE["entries"][0], {"timestamp": "2026-13-01 10:00", "content": "x"}]},
            "kimlee.json: entries[1].timestamp: '2026-13-01 10:00' is not YYYY-MM-DD HH:MM",
        ),
        (
            {**REFERENCE, "entries": [REFERENCE["entries"][0], {"timestamp": "2026-11-01 10:00", "content": "  "}]},
            "kimlee.json: entries[1].content: must be non-empty text",
        ),
        ({**REFERENCE, "entries": ["just text"]}, "kimlee.json: entries[0]: must be an object"),
    ],
)
def test_a_broken_file_is_rejected_whole_with_the_place_of_each_problem(tmp_path, capsys, data, problem):
    write(tmp_path, "kimlee.json", data)
    with pytest.raises(CommandError, match="1 of 1 files had problems"):
        call_command("memory", "import", str(tmp_path))
    assert problem in capsys.readouterr().err
    assert not MemoryEntry.objects.exists()
    assert not get_user_model().objects.filter(username="kim.lee").exists()


def test_every_bad_entry_is_reported_and_good_files_still_import(tmp_path, capsys):
    bad = {**REFERENCE, "user_id": "bo", "entries": [{"timestamp": "x"}, {"content": 5, "timestamp": "2026-01-01 00:00"}]}
    write(tmp_path, "bo.json", bad)
    write(tmp_path, "kimlee.json", REFERENCE)
    with pytest.raises(CommandError):
        call_command("memory", "import", str(tmp_path))
    err = capsys.readouterr().err
    assert "bo.json: entries[0].timestamp" in err and "bo.json: entries[0].content" in err
    assert "bo.json: entries[1].content" in err
    assert MemoryEntry.objects.filter(owner__username="kim.lee").count() == 2
    assert not MemoryEntry.objects.filter(owner__username="bo").exists()


def test_file_name_keeps_letters_digits_dash_underscore():
    assert services.file_name_for("kim.lee@psi/ops") == "kimleepsiops.json"
    assert services.file_name_for("op_1-a") == "op_1-a.json"


def test_window_applies_to_imported_timestamps(tmp_path):
    old = (timezone.localtime() - timedelta(days=45)).strftime("%Y-%m-%d %H:%M")
    new = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    write(tmp_path, "kim.json", {"user_id": "kim", "last_updated": new, "entries": [
        {"timestamp": old, "content": "old note about the tuner"}, {"timestamp": new, "content": "new note about the tuner"}]})
    call_command("memory", "import", str(tmp_path))
    assert [e.content for e in services.get_user_context("kim", "tuner")] == ["new note about the tuner"]
    assert len(services.get_user_context("kim", "tuner", context_window_days=60)) == 2
