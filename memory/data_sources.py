"""The user's memory as a data source: the notes most relevant to the request."""
import asyncio

from django.db import connection

from memory import services
from providers.base import DataSourceProvider
from providers.registry import register


@register
class UserMemoryProvider(DataSourceProvider):
    """Options: context_window_days (30) and limit (how many notes, 10)."""

    name = "user_memory"
    description = "Notes from the user's memory most relevant to the request"
    context_type = "memory_entries"

    def should_respond(self, request):
        return request.user is not None

    async def retrieve(self, request):
        notes = await asyncio.to_thread(self._notes, request.user, request.query)
        if not notes:
            return None
        return self.context(notes, summary=f"{len(notes)} notes from {request.username}'s memory")

    def format_for_prompt(self, context):
        lines = [f"## {self.description}"]
        lines += [f"- ({note['created_at'][:16]}) {note['content']}" for note in context.data]
        return "\n".join(lines)

    def _notes(self, user, query):
        try:
            entries = services.get_user_context(
                user,
                query=query,
                context_window_days=self.options.get("context_window_days", 30),
                limit=self.options.get("limit", 10),
            )
            return [{"id": e.pk, "created_at": e.created_at.isoformat(), "content": e.content} for e in entries]
        finally:
            # This runs in a worker thread, whose connection nobody else closes.
            connection.close()
