"""python manage.py audit verify | export --since --until --format --output"""
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from audit.actions import ACTIONS, FAMILIES
from audit.models import AuditEvent
from audit.reports import FORMATS, Export, ReportError, ReportFilters, parse_moment
from audit.services import cli_actor, verify_chain


class Command(BaseCommand):
    help = (
        "The audit trail. 'audit verify' walks the hash chain and names the first broken link (exit 0 when "
        "intact, 1 when broken). 'audit export' writes the events of a time range as CSV, JSON or a PDF report."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify,export}")
        sub.add_parser(
            "verify", help="Check every event against its hash and its predecessor; exit 1 naming the first broken link.",
            description="Walk the chain from event #1 to the chain head. Exit 0 and print the head's number and "
            "hash (keep them elsewhere to pin today's history) when intact; exit 1 naming the first broken link "
            "(changed, deleted or reordered event) when not.",
        )
        export = sub.add_parser(
            "export", help="Write the events of a range as csv, json or pdf.",
            description="Export audit events. Dates are ISO: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]; without an "
            "offset they are in the site's time zone (ABF_TIME_ZONE, default UTC). The export is itself an audit "
            "event. Progress goes to stderr.",
        )
        export.add_argument("--since", help="First moment included (date or date-time). Default: the first event.")
        export.add_argument("--until", help="End of the range: a date includes that whole day, a date-time is excluded. Default: now.")
        export.add_argument("--format", choices=FORMATS, required=True, help="csv (one row per event), json (one document with summary and events) or pdf (the committee report).")
        export.add_argument("--output", required=True, metavar="PATH", help="File to write; '-' writes to stdout.")
        export.add_argument("--user", default="", help="Only events this user did, or that concern their runs and notes.")
        export.add_argument(
            "--kind", default="",
            help=f"Only this action family ({', '.join(FAMILIES)}) or one action (e.g. approval.decided; all: {', '.join(sorted(ACTIONS))}).",
        )
        export.add_argument("--outcome", default="", help="Only events with this outcome (approved, rejected, expired, succeeded, failed, confirmed, refused, ...).")
        export.add_argument("--pv", default="", help="Only EPICS writes to this PV.")
        export.add_argument("--quiet", action="store_true", help="No progress on stderr.")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    def do_verify(self, **_):
        report = verify_chain()
        if not report.ok:
            self.stderr.write(f"BROKEN: {report.message}")
            sys.exit(1)
        self.stdout.write(report.message)

    def do_export(self, since=None, until=None, format="csv", output="-", user="", kind="", outcome="", pv="", quiet=False, **_):
        try:
            filters = ReportFilters(
                since=parse_moment(since), until=parse_moment(until, end=True), user=user.strip(), kind=kind.strip(),
                outcome=outcome.strip(), pv=pv.strip(),
            )
        except ReportError as exc:
            raise CommandError(str(exc))
        target = self._open(output, format)
        export = Export(filters.apply(AuditEvent.objects.all()), filters, cli_actor(), format)
        progress = None if quiet else Progress(self.stderr, export.count)
        try:
            for chunk in export.chunks(progress):
                target.write(chunk)
        finally:
            if target not in (sys.stdout, sys.stdout.buffer):
                target.close()
            else:
                target.flush()
        if not quiet:
            where = "stdout" if output == "-" else output
            self.stderr.write(f"{export.count} events exported as {format} to {where} (up to event #{export.up_to_seq}).")

    def _open(self, output, fmt):
        if output == "-":
            return sys.stdout.buffer if fmt == "pdf" else sys.stdout
        try:
            return open(output, "wb") if fmt == "pdf" else open(output, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}")


class Progress:
    """'exported 40000 of 100000 events (40%)' on stderr, at most once a second."""

    def __init__(self, stream, total):
        self.stream, self.total, self.last = stream, total, 0.0

    def __call__(self, done, total, unit):
        now = time.monotonic()
        if done < total and now - self.last < 1:
            return
        self.last = now
        share = f" ({100 * done // total}%)" if total else ""
        self.stream.write(f"exported {done} of {total} {unit}{share}")
