"""What a data source is: a provider, the request it answers, the context it returns.

A provider is a class in some installed app's data_sources.py, registered
with providers.registry.register. Before planning, the graph asks every
enabled provider that wants to answer (should_respond) for its context
(retrieve), all in parallel, each under its own timeout.
"""
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

DEFAULT_TIMEOUT = 2.0  # seconds


@dataclass(frozen=True)
class DataSourceRequest:
    """What providers are asked: who asks, from which component, and about what.

    user is the Django user the context is for (None for a system request);
    requester names the component asking ("planner", "page", "cli", ...);
    query is the operator's request text; metadata carries anything else a
    provider may use (read-only).
    """

    user: Any
    requester: str
    query: str
    metadata: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.query, str):
            raise ValueError(f"DataSourceRequest.query must be the request text (a str), not {type(self.query).__name__}.")
        if not self.query.strip():
            raise ValueError("DataSourceRequest.query is empty: providers need the request text.")
        if not isinstance(self.requester, str) or not self.requester.strip():
            raise ValueError(
                "DataSourceRequest.requester must name the component asking, e.g. 'planner', "
                f"not {self.requester!r}."
            )
        if self.user is not None:
            from django.contrib.auth import get_user_model

            if not isinstance(self.user, get_user_model()):
                raise ValueError(
                    f"DataSourceRequest.user must be a {get_user_model().__name__} or None, "
                    f"not {type(self.user).__name__} ({self.user!r})."
                )
        if not isinstance(self.metadata, Mapping):
            raise ValueError(f"DataSourceRequest.metadata must be a mapping, not {type(self.metadata).__name__}.")
        bad_keys = [key for key in self.metadata if not isinstance(key, str)]
        if bad_keys:
            raise ValueError(f"DataSourceRequest.metadata keys must be strings; got {bad_keys!r}.")
        # Frozen all the way down: providers run concurrently on one request.
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def username(self):
        return self.user.get_username() if self.user is not None else None


@dataclass(frozen=True)
class DataSourceContext:
    """What one provider found. data must be JSON-serialisable: it is shown
    on the page, printed by the command and stored with the run."""

    source: str
    context_type: str
    data: Any
    summary: str = ""

    def to_dict(self):
        return {"source": self.source, "context_type": self.context_type, "summary": self.summary, "data": self.data}


class DataSourceProvider:
    """Base class for data sources. Subclass, set name, description and
    context_type, implement retrieve(), and register the class in your app's
    data_sources.py:

        from providers.base import DataSourceContext, DataSourceProvider
        from providers.registry import register

        @register
        class ShiftLog(DataSourceProvider):
            name = "shift_log"
            description = "The last entries of the shift log"
            context_type = "log_entries"

            async def retrieve(self, request):
                entries = await fetch_entries(limit=self.options.get("limit", 10))
                return self.context(entries, summary=f"{len(entries)} entries")

    retrieve() runs on an event loop shared with the other providers: it
    must not block. Run blocking I/O with `await asyncio.to_thread(...)`.
    """

    name = ""
    description = ""
    context_type = ""
    timeout = DEFAULT_TIMEOUT
    enabled_by_default = True

    def __init__(self, timeout=None, **options):
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise ValueError(f"{self.name}: timeout must be a positive number of seconds, not {timeout!r}.")
            self.timeout = float(timeout)
        self.options = options

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"

    def should_respond(self, request):
        """Whether this provider has anything to say about the request. Keep it cheap: no I/O."""
        return True

    async def retrieve(self, request):
        """Return a DataSourceContext, or None when there is nothing to report."""
        raise NotImplementedError(f"{type(self).__name__} must implement retrieve()")

    async def health_check(self):
        """True if the source is usable, False (or an exception, whose message
        is kept) if not. None, the default, means this provider has no check."""
        return None

    def format_for_prompt(self, context):
        """The context as text for the planner's prompt."""
        data = json.dumps(context.data, indent=2, default=str, ensure_ascii=False)
        heading = f"## {self.description or self.name}"
        return f"{heading}\n{context.summary}\n{data}" if context.summary else f"{heading}\n{data}"

    def context(self, data, summary=""):
        """A DataSourceContext from this provider."""
        return DataSourceContext(source=self.name, context_type=self.context_type, data=data, summary=summary)
