import json
import sys

from django.core.management.base import BaseCommand, CommandError

from approvals.services import resolve_user
from providers import services
from providers.base import DataSourceRequest
from providers.registry import is_enabled, registry


class Command(BaseCommand):
    help = (
        "Data-source providers: `providers check` lists every provider and runs the enabled ones' health "
        'checks; `providers query "..." [--user U] [--json]` shows the context a request would get, per '
        "provider, with timings. Enable, disable and configure providers in settings.ABF_DATA_SOURCES."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{check,query}")
        check_help = (
            "List every provider (enabled or not) and run the enabled ones' health checks. "
            "Exits with an error if an enabled provider is unhealthy."
        )
        check = sub.add_parser("check", help=check_help, description=check_help)
        check.add_argument("--json", dest="as_json", action="store_true", help="Print the results as JSON.")
        query_help = "Ask every enabled provider for the context of a request, as the graph does before planning."
        query = sub.add_parser("query", help=query_help, description=query_help)
        query.add_argument("text", help='The request text, e.g. "read SR:RF:CAV3:TEMP" (- reads stdin).')
        query.add_argument(
            "--user", help="Whose request it is (their own context, e.g. recent executions). Default: no user."
        )
        query.add_argument("--json", dest="as_json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_check(self, as_json=False, **_):
        services.sync_provider_statuses()
        every = registry.providers(include_disabled=True)
        enabled = [p for p in every if is_enabled(type(p))]
        health = {outcome.name: outcome for outcome in services.check_health(enabled)}
        if as_json:
            rows = [
                {
                    "name": p.name,
                    "description": p.description,
                    "enabled": p.name in health,
                    "timeout_s": p.timeout,
                    "health": health[p.name].to_dict() if p.name in health else None,
                }
                for p in every
            ]
            self.stdout.write(json.dumps(rows, indent=2))
        elif not every:
            self.stdout.write("No providers: no installed app registers one.")
        else:
            self.stdout.write(f"{'PROVIDER':22}  {'ENABLED':7}  {'TIMEOUT':>7}  {'HEALTH':9}  {'TIME':>8}  DETAIL")
            for p in every:
                outcome = health.get(p.name)
                if outcome is None:
                    state, took, detail = "-", "", p.description
                else:
                    state = {True: "ok", False: "unhealthy", None: "no check"}[outcome.ok]
                    took, detail = f"{outcome.elapsed_ms:.0f} ms", outcome.error or p.description
                self.stdout.write(
                    f"{p.name:22}  {'yes' if outcome else 'no':7}  {p.timeout:>6g}s  {state:9}  {took:>8}  {detail}"
                )
        unhealthy = sorted(name for name, outcome in health.items() if outcome.ok is False)
        if unhealthy:
            raise CommandError(f"Unhealthy: {', '.join(unhealthy)}.")

    def do_query(self, text, user=None, as_json=False, **_):
        text = sys.stdin.read() if text == "-" else text
        try:
            request = DataSourceRequest(
                user=resolve_user(user) if user else None, requester="cli", query=text
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        result = services.retrieve_all_context(request)
        if as_json:
            self.stdout.write(json.dumps(result.to_dict(), indent=2, default=str))
            return
        who = f" as {request.username}" if request.user else ""
        self.stdout.write(f"{len(result.outcomes)} providers{who}, {result.total_ms:.0f} ms in all:")
        for outcome in result.outcomes:
            if outcome.status == outcome.SKIPPED:
                took, detail = "", "nothing in the request for it"
            else:
                took = f"{outcome.elapsed_ms:.0f} ms"
                detail = outcome.reason or (outcome.context.summary if outcome.context else "nothing to report")
            self.stdout.write(f"  {outcome.name:22}  {outcome.status:9}  {took:>8}  {detail}")
        prompt = result.format_for_prompt()
        self.stdout.write("\nWhat the planner sees:\n" + (prompt or "(no context)"))
