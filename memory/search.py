"""Hybrid relevance: the database's full-text ranking and the embedding
similarity, each a ranked list of entry ids, fused by reciprocal rank.

Full text catches exact words, PV names and device codes; embeddings catch
the same meaning in other words. Both only ever see one owner's live entries
inside the window.
"""
import re

import numpy as np
from django.db import connection

from memory import embeddings

CANDIDATES = 50  # from each ranking, before fusion
RRF_K = 60  # the usual constant of reciprocal rank fusion
# Identifiers (SR:RF:CAV3:TEMP, IG-07-2) must match exactly: an entry naming
# one the query names is ranked by its own list, ahead of mere similarity.
IDENTIFIER = re.compile(r"\b[A-Za-z0-9]+(?:[:\-_.][A-Za-z0-9]+)+\b")
WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i if in into is it its "
    "it's me my no not of on or our so that the their them then there these they this to was we were what "
    "when where which who why will with you your".split()
)


def identifiers_in(text):
    return [m.group() for m in IDENTIFIER.finditer(text) if any(c.isdigit() for c in m.group()) or ":" in m.group()]


def ranked(owner_id, entries, query, limit):
    """Ids of the best matches for query among `entries` (one owner's), best first."""
    lists = [full_text_ranking(owner_id, entries, query), semantic_ranking(entries, query)]
    names = identifiers_in(query)
    if names:
        exact = entries
        for name in names:
            exact = exact.filter(content__icontains=name)
        lists.append(list(exact.values_list("id", flat=True)[:CANDIDATES]))
    scores = {}
    for ranking in lists:
        for position, entry_id in enumerate(ranking):
            scores[entry_id] = scores.get(entry_id, 0.0) + 1.0 / (RRF_K + position + 1)
    return sorted(scores, key=lambda entry_id: -scores[entry_id])[:limit]


def _terms(query):
    return [w for w in (w.lower() for w in WORD.findall(query)) if w not in STOPWORDS]


def full_text_ranking(owner_id, entries, query):
    """The owner's entries matching the query's words, best first.

    A hit on one incidental word of a long question ("after", "week") is
    noise that would push a note found by meaning out of the fused list: a
    full-text hit must match at least half of the query's words.
    """
    terms = list(dict.fromkeys(_terms(query)))
    if not terms:
        return []
    if connection.vendor == "sqlite":
        ids, coverage, counted = _sqlite_matches(owner_id, terms)
    elif connection.vendor == "postgresql":
        ids, coverage, counted = _postgres_matches(entries, terms)
    else:
        return []
    # The index knows owners, not deletions or the window: keep what entries allows.
    kept = set(entries.filter(id__in=ids).values_list("id", flat=True))
    ids = [i for i in ids if i in kept and coverage.get(i, 0) >= (counted + 1) // 2]
    return sorted(ids, key=lambda i: -coverage[i])[:CANDIDATES]


def _sqlite_matches(owner_id, terms):
    """(ids matching any term, bm25 order; id -> terms matched; terms counted)."""
    # Every term a quoted FTS5 string: nothing in the query is syntax.
    owner = f'owner:"{owner_id}"'
    ids = _sqlite_fts(f"{owner} AND (" + " OR ".join(f'"{t}"' for t in terms) + ")")
    return ids, _sqlite_term_counts([f'{owner} AND "{term}"' for term in terms]), len(terms)


def _postgres_matches(entries, terms):
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = SearchVector("content", config="english")
    ids = list(
        entries.annotate(rank=SearchRank(vector, SearchQuery(" or ".join(terms), search_type="websearch", config="english")))
        .filter(rank__gt=0)
        .order_by("-rank")
        .values_list("id", flat=True)[: CANDIDATES * 4]
    )
    # English stop words ("after") become empty queries: they match nothing and do not count.
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["numnode(plainto_tsquery('english', %s))"] * len(terms)), terms)
        searchable = [term for term, nodes in zip(terms, cursor.fetchone()) if nodes]
    per_term = {
        f"term_{i}": SearchRank(vector, SearchQuery(term, search_type="plain", config="english"))
        for i, term in enumerate(searchable)
    }
    rows = entries.filter(id__in=ids).annotate(**per_term).values_list("id", *per_term) if per_term else []
    coverage = {row[0]: sum(1 for rank in row[1:] if rank > 0) for row in rows}
    return ids, coverage, len(searchable)


def _sqlite_fts(match):
    """Row ids matching, best (bm25) first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM memory_entry_fts WHERE memory_entry_fts MATCH %s "
            "ORDER BY bm25(memory_entry_fts, 1.0, 0.0) LIMIT %s",
            [match, CANDIDATES * 4],
        )
        return [row[0] for row in cursor.fetchall()]


def _sqlite_term_counts(matches):
    """Row id -> how many of the match expressions it satisfies (one query, no ranking)."""
    union = " UNION ALL ".join(["SELECT rowid FROM memory_entry_fts WHERE memory_entry_fts MATCH %s"] * len(matches))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid, COUNT(*) FROM ({union}) GROUP BY rowid", matches)
        return dict(cursor.fetchall())


def semantic_ranking(entries, query):
    vector = embeddings.embed(query)
    if vector is None:
        return []
    rows = list(entries.exclude(embedding=None).values_list("id", "embedding"))
    if not rows:
        return []
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(bytes(row[1]) for row in rows), dtype=np.float32).reshape(len(rows), -1)
    similarity = matrix @ vector
    best = np.argsort(-similarity)[:CANDIDATES]
    return [int(ids[i]) for i in best]
