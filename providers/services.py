"""Gathering context for a request from every provider, and keeping each
provider's health, latency and last error for admin.

Every responding provider runs at once, each under its own timeout: a slow
or hung source is reported as timed out and costs the others nothing, and an
exception in one is reported as that provider's failure, never raised.
"""
import asyncio
import logging
import time
from dataclasses import dataclass

from django.db import DatabaseError
from django.utils import timezone

from providers.base import DataSourceContext, DataSourceRequest
from providers.models import ProviderStatus
from providers.registry import is_enabled, registry

log = logging.getLogger(__name__)

# How long the sync wrapper lets cancelled providers unwind before it closes
# its event loop. A provider that ignores cancellation is left behind.
CANCEL_GRACE = 0.1


class ProviderTimeout(Exception):
    pass


@dataclass
class ProviderOutcome:
    """What one provider did with one request."""

    name: str
    status: str  # ProviderStatus.Outcome value, or "skipped"
    elapsed_ms: float
    timeout: float
    context: DataSourceContext | None = None
    prompt: str = ""
    error: str = ""

    SKIPPED = "skipped"

    @property
    def reason(self):
        """Why it failed, for people: 'timeout: ...' or 'error: ...'."""
        if self.status == ProviderStatus.Outcome.TIMED_OUT:
            return f"timeout: no answer within {self.timeout:g} s"
        if self.status == ProviderStatus.Outcome.FAILED:
            return f"error: {self.error}"
        return ""

    def to_dict(self):
        return {
            "name": self.name,
            "status": self.status,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "timeout_s": self.timeout,
            "reason": self.reason,
            "context": self.context.to_dict() if self.context else None,
        }


@dataclass
class RetrievalResult:
    """Every provider's outcome for one request, and the time it all took."""

    outcomes: list
    total_ms: float

    def _names(self, status):
        return [o.name for o in self.outcomes if o.status == status]

    @property
    def contexts(self):
        return [o.context for o in self.outcomes if o.context is not None]

    @property
    def succeeded(self):
        return self._names(ProviderStatus.Outcome.SUCCEEDED)

    @property
    def failed(self):
        """Providers that returned nothing usable, by name, with the reason (timeouts included)."""
        return {o.name: o.reason for o in self.outcomes if o.reason}

    @property
    def timed_out(self):
        return self._names(ProviderStatus.Outcome.TIMED_OUT)

    @property
    def skipped(self):
        return self._names(ProviderOutcome.SKIPPED)

    @property
    def timings_ms(self):
        return {o.name: o.elapsed_ms for o in self.outcomes if o.status != ProviderOutcome.SKIPPED}

    def format_for_prompt(self):
        """All contexts as text for the planner, one section per provider."""
        return "\n\n".join(o.prompt for o in self.outcomes if o.prompt)

    def to_dict(self):
        return {
            "total_ms": round(self.total_ms, 1),
            "succeeded": self.succeeded,
            "failed": self.failed,
            "timed_out": self.timed_out,
            "skipped": self.skipped,
            "providers": [o.to_dict() for o in self.outcomes],
        }


# --- Retrieval -------------------------------------------------------------------


async def aretrieve_all_context(request, providers=None):
    """Ask every enabled provider (or the given ones) that wants to answer
    the request, all at once. Never raises for a provider's failure."""
    if not isinstance(request, DataSourceRequest):
        raise TypeError(f"retrieve_all_context() needs a DataSourceRequest, not {type(request).__name__}.")
    providers = registry.providers() if providers is None else providers
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(_retrieve_one(provider, request) for provider in providers))
    return RetrievalResult(outcomes=list(outcomes), total_ms=_ms_since(started))


def retrieve_all_context(request, providers=None, record=True):
    """aretrieve_all_context for sync callers (graph nodes, django-q tasks,
    views, commands); with record, each provider's latency and error are kept
    for admin."""
    result = _run(aretrieve_all_context(request, providers))
    if record:
        record_outcomes(result)
    return result


async def _retrieve_one(provider, request):
    started = time.perf_counter()

    def outcome(status, **fields):
        return ProviderOutcome(
            name=provider.name, status=status, elapsed_ms=_ms_since(started), timeout=provider.timeout, **fields
        )

    try:
        if not provider.should_respond(request):
            return outcome(ProviderOutcome.SKIPPED)
        context = await _within_timeout(provider.retrieve(request), provider.timeout)
        if context is not None and not isinstance(context, DataSourceContext):
            raise TypeError(f"retrieve() returned {type(context).__name__}, not a DataSourceContext or None")
        prompt = provider.format_for_prompt(context) if context is not None else ""
    except ProviderTimeout:
        log.warning("data source %s timed out after %g s", provider.name, provider.timeout)
        return outcome(ProviderStatus.Outcome.TIMED_OUT)
    except Exception as exc:
        log.warning("data source %s failed", provider.name, exc_info=True)
        return outcome(ProviderStatus.Outcome.FAILED, error=_describe(exc))
    return outcome(ProviderStatus.Outcome.SUCCEEDED, context=context, prompt=prompt)


async def _within_timeout(awaitable, timeout):
    """Await under a timeout without waiting for the cancelled work to finish.

    asyncio.wait_for would, on timeout, wait until the cancelled provider has
    unwound: a provider that catches the cancellation (or cleans up slowly)
    would hold everyone up. Here a timed-out provider is cancelled and left.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise ProviderTimeout
    if task.cancelled():
        raise RuntimeError("retrieve() was cancelled from inside the provider")
    return task.result()


# --- Health ------------------------------------------------------------------------


@dataclass
class HealthOutcome:
    name: str
    ok: bool | None  # None: the provider has no health check
    elapsed_ms: float
    error: str = ""

    def to_dict(self):
        return {"name": self.name, "ok": self.ok, "elapsed_ms": round(self.elapsed_ms, 1), "error": self.error}


async def acheck_health(providers=None):
    """Run every enabled provider's (or the given ones') health check at once, each under its timeout."""
    providers = registry.providers() if providers is None else providers
    return list(await asyncio.gather(*(_check_one(provider) for provider in providers)))


def check_health(providers=None, record=True):
    outcomes = _run(acheck_health(providers))
    if record:
        record_health(outcomes)
    return outcomes


async def _check_one(provider):
    started = time.perf_counter()
    try:
        healthy = await _within_timeout(provider.health_check(), provider.timeout)
    except ProviderTimeout:
        return HealthOutcome(provider.name, False, _ms_since(started), f"no answer within {provider.timeout:g} s")
    except Exception as exc:
        return HealthOutcome(provider.name, False, _ms_since(started), _describe(exc))
    ok = None if healthy is None else bool(healthy)
    return HealthOutcome(provider.name, ok, _ms_since(started), "" if ok is not False else "reported unhealthy")


# --- Status for admin --------------------------------------------------------------


def sync_provider_statuses():
    """One ProviderStatus row per registered provider, with its description,
    enabled state and timeout as the registry and settings resolve them now.
    Rows of providers no installed app registers any more are marked so."""
    providers = registry.providers(include_disabled=True)
    for provider in providers:
        ProviderStatus.objects.update_or_create(
            name=provider.name,
            defaults={
                "description": provider.description,
                "context_type": provider.context_type,
                "registered": True,
                "enabled": is_enabled(type(provider)),
                "timeout": provider.timeout,
            },
        )
    ProviderStatus.objects.exclude(name__in=[p.name for p in providers]).update(registered=False, enabled=False)


def record_outcomes(result):
    """Keep each provider's latency and error from one retrieval. Status
    keeping must never break a run: a database error is logged, not raised."""
    now = timezone.now()
    try:
        for outcome in result.outcomes:
            if outcome.status != ProviderOutcome.SKIPPED:
                _update_status(
                    outcome.name,
                    last_outcome=outcome.status,
                    last_latency_ms=round(outcome.elapsed_ms, 1),
                    last_error=outcome.reason,
                    last_run_at=now,
                )
    except DatabaseError:
        log.exception("could not record data source outcomes")


def record_health(outcomes):
    now = timezone.now()
    try:
        for outcome in outcomes:
            _update_status(
                outcome.name, last_health_ok=outcome.ok, last_health_at=now, last_health_error=outcome.error
            )
    except DatabaseError:
        log.exception("could not record data source health")


def _update_status(name, **fields):
    # A provider's first report creates its row through the sync, so the row
    # starts with its description and configuration. Providers no installed
    # app registers (passed in by hand) have no row and are not recorded.
    if not ProviderStatus.objects.filter(name=name).update(**fields):
        sync_provider_statuses()
        ProviderStatus.objects.filter(name=name).update(**fields)


# --- Helpers -------------------------------------------------------------------------


def _run(coroutine):
    """Run a coroutine to completion from sync code, on a loop of its own.

    Not asyncio.run(): it waits for every thread the providers started
    (asyncio.to_thread), so one hung blocking read would hold the caller
    long after its provider timed out. loop.close() leaves them behind.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coroutine.close()
        raise RuntimeError("Called from async code: await the a-prefixed function instead.")
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        leftovers = asyncio.all_tasks(loop)
        if leftovers:
            loop.run_until_complete(asyncio.wait(leftovers, timeout=CANCEL_GRACE))
        loop.close()


def _describe(exc):
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ms_since(started):
    return (time.perf_counter() - started) * 1000
