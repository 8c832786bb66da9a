import json
import sys
from types import SimpleNamespace

from django.core.management.base import BaseCommand

from execution.analysis import PYTHON_MODES, analyze_code, evaluate


class Command(BaseCommand):
    help = (
        "Analyse Python files for EPICS reads and writes and say whether the policy would need approval. "
        "PATH may be - for stdin. With --json: exactly one JSON object per line per input, with path, "
        "needs_approval, refused, has_epics_writes, has_epics_reads, reasons and findings. "
        "Exit code 0 whenever it ran (whatever it found), 2 on usage errors. "
        "A file that cannot be read gets its own line with an error and needs_approval true."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files to analyse, or - for stdin.")
        parser.add_argument(
            "--mode", required=True, choices=PYTHON_MODES,
            help="Python approval mode: disabled, epics_writes or all_code.",
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="One JSON object per line per input.")
        parser.add_argument(
            "--writes-enabled", action="store_true",
            help="Assume the EPICS writes master switch is on (default off: writing code is reported refused).",
        )

    def handle(self, *args, paths, mode, as_json, writes_enabled, **options):
        policy = SimpleNamespace(global_mode="selective", python_mode=mode, writes_enabled=writes_enabled)
        for path in paths:
            verdict = self.verdict(path, policy)
            if as_json:
                self.stdout.write(json.dumps(verdict))
            else:
                self.print_report(verdict)

    def verdict(self, path, policy):
        try:
            source = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}"
            return {
                "path": path, "error": reason, "needs_approval": True, "refused": False,
                "has_epics_writes": False, "has_epics_reads": False, "reasons": [reason], "findings": [],
            }
        analysis = analyze_code(source)
        decision = evaluate(policy, analysis)
        data = analysis.to_dict()
        return {
            "path": path,
            "needs_approval": decision.needs_approval,
            "refused": decision.refused,
            "has_epics_writes": analysis.has_epics_writes,
            "has_epics_reads": analysis.has_epics_reads,
            "risk": analysis.risk,
            "reasons": list(decision.reasons),
            "findings": data["findings"],
            "pvs_written": data["pvs_written"],
            "pvs_read": data["pvs_read"],
            "syntax_error": data["syntax_error"],
        }

    def print_report(self, v):
        if v.get("error"):
            self.stdout.write(f"{v['path']}: ERROR {v['error']} -> needs approval")
            return
        verdict = "REFUSED" if v["refused"] else ("needs approval" if v["needs_approval"] else "no approval needed")
        self.stdout.write(f"{v['path']}: {verdict} (risk {v['risk']})")
        for reason in v["reasons"]:
            self.stdout.write(f"  - {reason}")
        for f in sorted(v["findings"], key=lambda f: (f["line"], f["column"])):
            self.stdout.write(f"  {v['path']}:{f['line']}:{f['column']}: {f['kind']}: {f['explanation']}")
