"""get_user_context: window, ownership, exact identifiers, meaning, fallback."""
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from memory import embeddings, services
from memory.models import MemoryEntry
from providers.base import DataSourceRequest
from providers.services import retrieve_all_context
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def note(owner, content, days_ago=0):
    entry = services.save_memory(owner, content, source=MemoryEntry.Source.PAGE)
    if days_ago:
        MemoryEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return entry


def contents(entries):
    return [e.content for e in entries]


def test_finds_the_note_when_the_words_differ(operator):
    for text in ["BPM 12 is noisy on the vertical plane", "Coffee machine on level 2 is broken",
                 "Cavity 3 tuner sticks above 40 °C", "Shift handover is at 07:00 sharp"]:
        note(operator, text)
    found = services.get_user_context(operator, "why does the third RF cell's tuning motor jam when it's hot?", limit=1)
    assert contents(found) == ["Cavity 3 tuner sticks above 40 °C"]


def test_pv_names_and_device_codes_match_exactly(operator):
    note(operator, "SR:RF:CAV3:TEMP reads 2 K low, trust the other probe")
    note(operator, "SR:RF:CAV2:TEMP is fine")
    note(operator, "IG-07-1 was replaced in May")
    note(operator, "IG-07-2 reads high after bakeout")
    assert contents(services.get_user_context(operator, "SR:RF:CAV3:TEMP", limit=1)) == [
        "SR:RF:CAV3:TEMP reads 2 K low, trust the other probe"
    ]
    assert contents(services.get_user_context(operator, "what about IG-07-2?", limit=1)) == [
        "IG-07-2 reads high after bakeout"
    ]


def test_window_and_order_without_query(operator):
    note(operator, "old tuner note", days_ago=40)
    note(operator, "older", days_ago=3)
    note(operator, "newest")
    assert contents(services.get_user_context(operator)) == ["newest", "older"]
    assert "old tuner note" not in contents(services.get_user_context("olga", "tuner"))
    assert "old tuner note" in contents(services.get_user_context(operator, "tuner", context_window_days=60))


def test_never_another_users_or_a_deleted_entry(operator):
    other = make_user("otto", "operators")
    note(other, "cavity 3 tuner sticks (otto's note)")
    gone = note(operator, "cavity 3 tuner sticks (deleted)")
    services.delete_memory(gone, operator)
    assert services.get_user_context(operator, "cavity 3 tuner") == []
    assert contents(services.get_user_context(other, "cavity 3 tuner")) == ["cavity 3 tuner sticks (otto's note)"]


def test_unknown_user_is_an_error():
    with pytest.raises(services.MemoryEntryError, match="No user named 'nobody'"):
        services.get_user_context("nobody")


def test_without_the_model_package_full_text_still_works_and_says_so_once(operator, monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "_model", None)
    monkeypatch.setattr(embeddings, "_unavailable", False)
    monkeypatch.setattr(embeddings, "_package_dir", lambda name: (_ for _ in ()).throw(ImportError(f"no {name}")))
    with caplog.at_level(logging.WARNING, logger="memory.embeddings"):
        entry = note(operator, "cavity 3 tuner sticks above 40 °C")
        assert entry.embedding is None and entry.embedding_model == ""
        assert contents(services.get_user_context(operator, "tuner sticks")) == [entry.content]
        services.get_user_context(operator, "tuner")
    warnings = [r for r in caplog.records if "full-text search only" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.django_db(transaction=True)  # the provider reads in its own thread's connection
def test_provider_hands_the_relevant_notes_to_the_planner(operator):
    note(operator, "Cavity 3 tuner sticks above 40 °C")
    result = retrieve_all_context(DataSourceRequest(user=operator, requester="planner", query="tuner of cavity 3?"))
    outcome = next(o for o in result.outcomes if o.name == "user_memory")
    assert outcome.context.data[0]["content"] == "Cavity 3 tuner sticks above 40 °C"
    assert "Cavity 3 tuner sticks above 40 °C" in result.format_for_prompt()


def test_a_note_survives_a_restart(operator, monkeypatch):
    note(operator, "Cavity 3 tuner sticks above 40 °C")
    # A new process: the model is loaded again, the note comes from the database.
    monkeypatch.setattr(embeddings, "_model", None)
    found = services.get_user_context(operator, "third RF cell tuning motor jams when hot", limit=1)
    assert contents(found) == ["Cavity 3 tuner sticks above 40 °C"]
