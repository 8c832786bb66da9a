"""The write path for memory, and retrieval. Views, commands, the admin and
graph nodes call these; nothing else changes a memory entry."""
import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import services as approval_services
from approvals.services import OPERATORS_GROUP
from audit import services as audit
from memory import embeddings, search
from memory.models import MemoryEntry

log = logging.getLogger(__name__)

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"  # the reference memory files' format
MAX_CONTENT = 10_000


class MemoryEntryError(ValueError):
    """A memory change that cannot be made; the message says why, for a person."""


def resolve_user(user_or_name):
    try:
        return approval_services.resolve_user(user_or_name)
    except ValueError as exc:
        raise MemoryEntryError(str(exc)) from None


def can_manage(user, entry):
    """Owners manage their own entries; others need admin rights."""
    return entry.owner_id == user.pk or user.is_superuser


def _clean_content(content):
    if not isinstance(content, str) or not content.strip():
        raise MemoryEntryError("A memory note needs some text.")
    content = content.strip()
    if len(content) > MAX_CONTENT:
        raise MemoryEntryError(f"A memory note may be at most {MAX_CONTENT} characters ({len(content)} given).")
    return content


def _clean_tags(tags):
    tags = [str(t).strip() for t in (tags or []) if str(t).strip()]
    return list(dict.fromkeys(tags))


# --- Writes ---------------------------------------------------------------------


def save_memory(owner, content, *, source=MemoryEntry.Source.RUN, source_run=None, source_step=None,
                approved_by=None, tags=None, by=None):
    """Store one note for owner, its embedding computed now. A run step saves
    once: called again for the same run and step, it returns the saved entry.
    by: who stored it, when not the owner (an admin)."""
    owner = resolve_user(owner)
    content = _clean_content(content)
    if source_run is not None:
        existing = MemoryEntry.objects.filter(source_run=source_run, source_step=source_step).first()
        if existing:
            return existing
    vector = embeddings.embed(content)
    entry = MemoryEntry(
        owner=owner, content=content, tags=_clean_tags(tags), source=source, source_run=source_run,
        source_step=source_step, approved_by=approved_by, embedding=embeddings.to_bytes(vector),
        embedding_model=embeddings.MODEL_NAME if vector is not None else "",
    )
    try:
        with transaction.atomic():
            entry.save()
            audit.record_event(by or owner, "memory.saved", entry, {"content": entry.content, "tags": entry.tags, "source": entry.source, "step": source_step, "approved_by": approved_by.get_username() if approved_by else None})
    except IntegrityError:
        # Two workers saved the same step at once: the first one's entry stands.
        return MemoryEntry.objects.get(source_run=source_run, source_step=source_step)
    log.info("memory entry %s saved for %s (%s)", entry.pk, owner, source)
    return entry


def update_memory(entry, user, content, tags=None):
    if not can_manage(user, entry):
        raise PermissionError(f"{user} may not edit {entry.owner}'s memory.")
    if entry.is_deleted:
        raise MemoryEntryError("This memory entry was deleted; it cannot be edited.")
    content = _clean_content(content)
    fields = {"content": content, "updated_at": timezone.now()}
    if tags is not None:
        fields["tags"] = _clean_tags(tags)
    if content != entry.content:
        vector = embeddings.embed(content)
        fields["embedding"] = embeddings.to_bytes(vector)
        fields["embedding_model"] = embeddings.MODEL_NAME if vector is not None else ""
    with transaction.atomic():
        MemoryEntry.objects.filter(pk=entry.pk).update(**fields)
        audit.record_event(user, "memory.edited", entry, {"old": {"content": entry.content, "tags": entry.tags}, "new": {"content": content, "tags": fields.get("tags", entry.tags)}})
    entry.refresh_from_db()
    return entry


def delete_memory(entry, user):
    """Soft delete: never retrieved again, kept for audit."""
    if not can_manage(user, entry):
        raise PermissionError(f"{user} may not delete {entry.owner}'s memory.")
    with transaction.atomic():
        if MemoryEntry.objects.filter(pk=entry.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=user
        ):
            audit.record_event(user, "memory.deleted", entry, {"content": entry.content})
    entry.refresh_from_db()
    return entry


# --- Retrieval ------------------------------------------------------------------


def get_user_context(user, query=None, context_window_days=30, limit=10):
    """The user's live entries created inside the window: most relevant to
    query first, or newest first without one. Never another user's entry.
    context_window_days=None means no window (the My memory page's search)."""
    owner = resolve_user(user)
    entries = MemoryEntry.objects.alive().filter(owner=owner)
    if context_window_days is not None:
        entries = entries.filter(created_at__gte=timezone.now() - timedelta(days=context_window_days))
    if not query or not query.strip():
        return list(entries.order_by("-created_at", "-id")[:limit])
    ids = search.ranked(owner.pk, entries, query, limit)
    by_id = MemoryEntry.objects.in_bulk(ids)
    return [by_id[i] for i in ids]


# --- The reference framework's per-user JSON files ---------------------------------


def file_name_for(user_id):
    """The reference's file name: the user id reduced to letters, digits, - and _."""
    return re.sub(r"[^A-Za-z0-9_-]", "", user_id) + ".json"


def export_user(user):
    """One user's live entries in the reference format, oldest first."""
    entries = list(MemoryEntry.objects.alive().filter(owner=user).order_by("created_at", "id"))
    last = max((e.updated_at for e in entries), default=timezone.now())
    return {
        "user_id": user.get_username(),
        "last_updated": _stamp(last),
        "entries": [{"timestamp": _stamp(e.created_at), "content": e.content} for e in entries],
    }


def _stamp(moment):
    return timezone.localtime(moment).strftime(TIMESTAMP_FORMAT)


def export_files(directory, username=None):
    """Write <user_id>.json per user who has memory (or just `username`). Returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    users = get_user_model().objects.filter(memory_entries__deleted_at__isnull=True).distinct()
    if username:
        users = [resolve_user(username)]
    paths = []
    for user in users:
        path = directory / file_name_for(user.get_username())
        path.write_text(json.dumps(export_user(user), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def parse_memory_file(path):
    """Read and check one reference memory file. Returns (data, problems):
    every problem names its place (file, entry index, field)."""
    name = Path(path).name
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, [f"{name}: not a readable JSON file ({exc})"]
    if not isinstance(data, dict):
        return None, [f"{name}: the top level must be an object with user_id, last_updated and entries"]
    problems = []
    user_id = data.get("user_id")
    if not isinstance(user_id, str) or not user_id.strip():
        problems.append(f"{name}: user_id: must be a non-empty string")
    elif not re.fullmatch(r"[\w.@+-]{1,150}", user_id):
        problems.append(f"{name}: user_id: {user_id!r} is not a valid user name (letters, digits, @ . + - _)")
    if "last_updated" in data and _parse_stamp(data["last_updated"]) is None:
        problems.append(f"{name}: last_updated: {data['last_updated']!r} is not YYYY-MM-DD HH:MM")
    entries = data.get("entries")
    if not isinstance(entries, list):
        problems.append(f"{name}: entries: must be a list")
        entries = []
    for index, entry in enumerate(entries):
        place = f"{name}: entries[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{place}: must be an object with timestamp and content")
            continue
        if _parse_stamp(entry.get("timestamp")) is None:
            problems.append(f"{place}.timestamp: {entry.get('timestamp')!r} is not YYYY-MM-DD HH:MM")
        content = entry.get("content")
        if not isinstance(content, str) or not content.strip():
            problems.append(f"{place}.content: must be non-empty text")
        elif len(content.strip()) > MAX_CONTENT:
            problems.append(f"{place}.content: longer than {MAX_CONTENT} characters")
    return data, problems


def _parse_stamp(value):
    if not isinstance(value, str):
        return None
    try:
        return timezone.make_aware(datetime.strptime(value, TIMESTAMP_FORMAT))
    except ValueError:
        return None


def import_file(path):
    """Import one reference memory file, all or nothing. Creates a missing
    user as an operator; entries already there (same owner, time and text)
    are skipped, so importing twice adds nothing. Returns (username, added,
    skipped); raises MemoryEntryError listing every problem of a broken file."""
    data, problems = parse_memory_file(path)
    if problems:
        raise MemoryEntryError("\n".join(problems))
    wanted = [(_parse_stamp(e["timestamp"]), e["content"].strip()) for e in data["entries"]]
    with transaction.atomic():
        User = get_user_model()
        user, created = User.objects.get_or_create(username=data["user_id"])
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get_or_create(name=OPERATORS_GROUP)[0])
        # Same minute (the files' precision) and same text means already there;
        # soft-deleted entries count too: a deletion is not undone by an import.
        seen = {(_stamp(moment), content) for moment, content in
                MemoryEntry.objects.filter(owner=user).values_list("created_at", "content")}
        new = []
        for moment, content in wanted:
            if (_stamp(moment), content) not in seen:
                seen.add((_stamp(moment), content))
                new.append((moment, content))
        vectors = embeddings.embed_many([content for _, content in new])
        MemoryEntry.objects.bulk_create(
            MemoryEntry(
                owner=user, content=content, created_at=moment, updated_at=moment,
                source=MemoryEntry.Source.IMPORT,
                embedding=embeddings.to_bytes(vectors[i]) if vectors is not None else None,
                embedding_model=embeddings.MODEL_NAME if vectors is not None else "",
            )
            for i, (moment, content) in enumerate(new)
        )
        audit.record_event(audit.cli_actor(), "memory.imported", user, {"file": Path(path).name, "added": len(new), "skipped": len(wanted) - len(new), "digests": [audit.digest(content) for _, content in new]}, subject=user.get_username())
    return user.get_username(), len(new), len(wanted) - len(new)
