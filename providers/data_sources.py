"""Built-in providers: live EPICS values of the PVs a request names, and the
user's recent execution results."""
import asyncio
import re
import time

import epics
from django.db import connection

from execution.models import ExecutionRecord
from providers.base import DataSourceProvider
from providers.registry import register

# A PV name as a request writes it: upper-case segments of letters, digits,
# _ and -, joined by at least one colon, maybe with a .FIELD. Device codes
# (IG-07-2) have no colon; times (12:30) are ruled out by needing a letter,
# URLs (http://HOST:80) by the slash before.
PV_NAME = re.compile(r"(?<![\w:.\-/])[A-Z0-9][A-Z0-9_\-]*(?::[A-Z0-9_\-]+)+(?:\.[A-Z]+)?(?![\w:\-])")
SEVERITIES = {0: "NO_ALARM", 1: "MINOR", 2: "MAJOR", 3: "INVALID"}


def pv_names_in(text):
    """PV names mentioned in text, each once, in order."""
    names = (match.group() for match in PV_NAME.finditer(text))
    return list(dict.fromkeys(name for name in names if any(c.isalpha() for c in name)))


def read_pvs(names, connection_timeout, read_timeout, max_elements):
    """Read PVs through pyepics, never writing: name -> reading or error.

    Blocking: run it in a thread. All channels are created first so their
    searches go out together, then share one connection deadline.
    """
    channels = {name: epics.get_pv(name, connect=False, auto_monitor=False) for name in names}
    deadline = time.monotonic() + connection_timeout
    readings = {}
    for name, pv in channels.items():
        if not pv.wait_for_connection(timeout=max(deadline - time.monotonic(), 0.001)):
            readings[name] = {"error": f"not connected within {connection_timeout:g} s"}
            continue
        count = min(pv.count, max_elements) if pv.count > 1 else None
        reading = pv.get_with_metadata(form="ctrl", count=count, use_monitor=False, timeout=read_timeout)
        if reading is None:
            readings[name] = {"error": f"no value within {read_timeout:g} s"}
            continue
        readings[name] = _plain_reading(reading, pv.count)
    return readings


def _plain_reading(reading, element_count):
    """A pyepics reading as JSON-friendly data: value, units, alarm, limits."""
    value = reading["value"]
    value = value.tolist() if hasattr(value, "tolist") else value  # numpy arrays and scalars
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    enum_strings = reading.get("enum_strs")
    if enum_strings and isinstance(value, int) and 0 <= value < len(enum_strings):
        value = enum_strings[value]
    plain = {"value": value, "units": reading.get("units") or "", "severity": SEVERITIES.get(reading.get("severity"), "")}
    limits = (reading.get("lower_ctrl_limit"), reading.get("upper_ctrl_limit"))
    if None not in limits and limits != (0, 0):
        plain["ctrl_limits"] = list(limits)
    if element_count > 1 and isinstance(value, list) and len(value) < element_count:
        plain["elements"] = element_count  # the value was cut to the first max_elements
    return plain


@register
class EpicsValuesProvider(DataSourceProvider):
    """Options: connection_timeout (s, 0.5), read_timeout (s, 1.0),
    max_pvs (20), max_elements (array values are cut to this, 50), and
    health_pv (a PV the health check reads; without it the check only
    creates the Channel Access context)."""

    name = "epics_values"
    description = "Live EPICS values of the PVs named in the request (read-only)"
    context_type = "pv_values"

    def should_respond(self, request):
        return bool(pv_names_in(request.query))

    async def retrieve(self, request):
        names = pv_names_in(request.query)
        wanted = names[: self.options.get("max_pvs", 20)]
        readings = await asyncio.to_thread(self._read, wanted)
        read = sum(1 for reading in readings.values() if "error" not in reading)
        summary = f"{read} of {len(wanted)} PVs read"
        if len(wanted) < len(names):
            summary += f"; {len(names) - len(wanted)} more named, not read"
        return self.context(readings, summary=summary)

    async def health_check(self):
        health_pv = self.options.get("health_pv")
        if not health_pv:
            await asyncio.to_thread(epics.ca.version)  # loads libca and creates the CA context
            return True
        reading = (await asyncio.to_thread(self._read, [health_pv]))[health_pv]
        if "error" in reading:
            raise RuntimeError(f"{health_pv}: {reading['error']}")
        return True

    def format_for_prompt(self, context):
        lines = [f"## {self.description}"]
        for name, reading in context.data.items():
            if "error" in reading:
                lines.append(f"{name}: unavailable ({reading['error']})")
                continue
            line = f"{name} = {reading['value']} {reading['units']}".rstrip()
            if reading["severity"] not in ("NO_ALARM", ""):
                line += f" [alarm: {reading['severity']}]"
            if "ctrl_limits" in reading:
                line += f" (limits {reading['ctrl_limits'][0]} to {reading['ctrl_limits'][1]})"
            lines.append(line)
        return "\n".join(lines)

    def _read(self, names):
        return read_pvs(
            names,
            connection_timeout=self.options.get("connection_timeout", 0.5),
            read_timeout=self.options.get("read_timeout", 1.0),
            max_elements=self.options.get("max_elements", 50),
        )


@register
class RecentExecutionsProvider(DataSourceProvider):
    """Options: limit (how many executions, 5) and output_chars (how much
    of the end of stdout and stderr to keep, 500)."""

    name = "recent_executions"
    description = "Results of the user's most recent executions"
    context_type = "execution_results"

    def should_respond(self, request):
        return request.user is not None

    async def retrieve(self, request):
        executions = await asyncio.to_thread(self._recent, request.user.pk)
        if not executions:
            return None
        return self.context(executions, summary=f"{len(executions)} most recent executions")

    def _recent(self, user_id):
        tail = self.options.get("output_chars", 500)
        records = ExecutionRecord.objects.filter(step__plan__run__user_id=user_id).select_related("step__plan__run")
        try:
            return [
                {
                    "run": record.step.plan.run_id,
                    "request": record.step.plan.run.request_text[:200],
                    "step": record.step.order + 1,
                    "objective": record.step.objective,
                    "state": record.state,
                    "exit_code": record.exit_code,
                    "started_at": record.started_at.isoformat(),
                    "duration_ms": record.duration_ms,
                    "stdout": record.stdout[-tail:] if tail else "",
                    "stderr": record.stderr[-tail:] if tail else "",
                }
                for record in records[: self.options.get("limit", 5)]
            ]
        finally:
            # This runs in a worker thread, whose connection nobody else closes.
            connection.close()
