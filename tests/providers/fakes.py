"""Providers made to order, and a request helper."""
import asyncio

from providers.base import DataSourceProvider, DataSourceRequest


def make_provider(name, delay=0.0, result="data", error=None, timeout=None, respond=True, **attributes):
    """A provider class that waits `delay` seconds, then raises `error` or
    returns `result` as its context data."""

    class Made(DataSourceProvider):
        description = f"Test provider {name}"
        context_type = "test"

        def should_respond(self, request):
            return respond

        async def retrieve(self, request):
            await asyncio.sleep(delay)
            if error is not None:
                raise error
            return self.context(result, summary=f"{name} found {result!r}")

    Made.name = name
    Made.__qualname__ = f"Made_{name}"
    if timeout is not None:
        Made.timeout = timeout
    for key, value in attributes.items():
        setattr(Made, key, value)
    return Made


def ask(query, user=None, requester="test"):
    return DataSourceRequest(user=user, requester=requester, query=query)
