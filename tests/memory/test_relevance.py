"""Recall@5 of get_user_context on the labelled relevance set (relevance_set.py)."""
import re

import pytest

from memory import services
from memory.models import MemoryEntry
from memory.search import STOPWORDS
from tests.conftest import make_user
from tests.memory.relevance_set import labelled_set

pytestmark = pytest.mark.django_db

# Words too common to count as shared content.
FUNCTION_WORDS = STOPWORDS | {"after", "before", "every", "each", "all", "its", "must", "should", "only", "than",
                              "then", "once", "while", "which", "what", "about", "again", "do", "does", "go", "goes",
                              "same", "more", "most", "no", "not", "near", "at", "first"}


def content_words(text):
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in FUNCTION_WORDS}


def test_paraphrases_share_no_content_word_with_their_note():
    _, queries = labelled_set()
    paraphrases = [(q, note) for _, q, note, kind in queries if kind == "paraphrase"]
    assert len(paraphrases) * 3 >= len(queries)
    for question, note in paraphrases:
        assert not content_words(question) & content_words(note), (question, note)


def test_recall_at_5_meets_the_goals():
    notes, queries = labelled_set()
    assert sum(len(n) for n in notes.values()) >= 300 and len(queries) >= 60
    for username, texts in notes.items():
        user = make_user(username, "operators")
        for text in texts:
            services.save_memory(user, text, source=MemoryEntry.Source.IMPORT)

    hits = {"lexical": [], "paraphrase": []}
    misses = []
    for username, question, note, kind in queries:
        top = [e.content for e in services.get_user_context(username, question, limit=5)]
        hits[kind].append(note in top)
        if note not in top:
            misses.append(f"  [{kind}] {question!r} -> wanted {note!r}, got {top[:2]!r}")
    recall = {kind: sum(h) / len(h) for kind, h in hits.items()}
    overall = sum(sum(h) for h in hits.values()) / len(queries)
    print(
        f"\nrecall@5 on {sum(len(n) for n in notes.values())} notes, {len(queries)} queries: "
        f"lexical {recall['lexical']:.3f} ({len(hits['lexical'])}), "
        f"paraphrase {recall['paraphrase']:.3f} ({len(hits['paraphrase'])}), overall {overall:.3f}"
    )
    print("\n".join(misses))
    assert overall >= 0.9 and recall["paraphrase"] >= 0.7, recall
