"""Load PV write limits from a limits database in the reference framework's
JSON format: python manage.py import_pv_limits PATH [--replace]"""
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from audit.services import cli_actor
from execution.services import import_pv_limits


class Command(BaseCommand):
    help = "Import PV write limits (min, max, max_step, writable, verification) from a JSON limits database."

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON file; '-' reads stdin")
        parser.add_argument("--replace", action="store_true", help="Delete every existing PV limit first.")

    def handle(self, path, replace, **options):
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
            channels = json.loads(text)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}")
        if not isinstance(channels, dict):
            raise CommandError("the limits database must be a JSON object of PV name -> limits")
        try:
            created, updated = import_pv_limits(channels, replace=replace, actor=cli_actor())
        except ValueError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"{created} PV limits created, {updated} updated.")
