import json

from django.core.management.base import BaseCommand, CommandError

from approvals import services
from approvals.models import ApprovalRequest


class Command(BaseCommand):
    help = "List, show and decide approval requests: approvals list | show ID | decide ID --approve/--reject --as USER --comment TEXT"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,show,decide}")
        ls = sub.add_parser("list", help="Pending requests (or --all).")
        ls.add_argument("--all", action="store_true", help="Include decided and expired requests.")
        show = sub.add_parser("show", help="Everything a reviewer needs to decide one request.")
        show.add_argument("id", type=int)
        show.add_argument("--json", dest="as_json", action="store_true", help="Print the request as JSON.")
        decide = sub.add_parser("decide", help="Approve or reject a pending request.")
        decide.add_argument("id", type=int)
        verdict = decide.add_mutually_exclusive_group(required=True)
        verdict.add_argument("--approve", action="store_true")
        verdict.add_argument("--reject", action="store_true")
        decide.add_argument("--as", dest="as_user", required=True, metavar="USER", help="The reviewer deciding.")
        decide.add_argument("--comment", default="", help="Why (required to reject; the operator sees it).")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_list(self, all=False, **_):
        requests = ApprovalRequest.objects.select_related("run", "requester")
        if not all:
            requests = requests.filter(status=ApprovalRequest.Status.PENDING)
        requests = list(requests.order_by("created_at"))
        if not requests:
            self.stdout.write("No pending approval requests." if not all else "No approval requests.")
            return
        self.stdout.write(f"{'ID':>5}  {'KIND':6}  {'STATUS':8}  {'RUN':>5}  {'ASKED BY':12}  REASON")
        for a in requests:
            self.stdout.write(
                f"{a.pk:>5}  {a.kind:6}  {a.status:8}  {a.run_id:>5}  {a.requester.get_username():12}  {a.reason[:70]}"
            )

    def do_show(self, id, as_json=False, **_):
        approval = self._get(id)
        data = {
            "id": approval.pk,
            "kind": approval.kind,
            "status": approval.status,
            "run": approval.run_id,
            "requester": approval.requester.get_username(),
            "created_at": approval.created_at.isoformat(),
            "reason": approval.reason,
            "decided_by": approval.decided_by.get_username() if approval.decided_by else None,
            "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
            "comment": approval.comment,
            "context": approval.context,
        }
        if as_json:
            self.stdout.write(json.dumps(data, indent=2))
            return
        for key in ("id", "kind", "status", "run", "requester", "created_at", "reason", "decided_by", "decided_at", "comment"):
            if data[key] not in (None, ""):
                self.stdout.write(f"{key.replace('_', ' '):>11}: {data[key]}")
        ctx = approval.context
        self.stdout.write(f"\nRequest:\n{ctx.get('request', '')}\n")
        for step in ctx.get("steps", []):
            self.stdout.write(f"Step {step['order']} [{step['capability']}] {step['objective']}")
            for key, value in step.get("inputs", {}).items():
                self.stdout.write(f"    {key}: {value}")
        if "content" in ctx:
            self.stdout.write(f"Note for {ctx.get('owner', '?')}'s memory (exactly this text is saved):\n{ctx['content']}")
        if "code" in ctx:
            self.stdout.write("Code:")
            for number, line in enumerate(ctx["code"].splitlines(), start=1):
                self.stdout.write(f"{number:>4} | {line}")
            analysis = ctx.get("analysis", {})
            for finding in analysis.get("findings", []):
                self.stdout.write(f"  line {finding['line']}: {finding['explanation']}")

    def do_decide(self, id, approve, reject, as_user, comment, **_):
        approval = self._get(id)
        try:
            user = services.resolve_user(as_user)
            approval = services.decide(approval, user, approve=approve, comment=comment)
        except (services.DecisionError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Approval #{approval.pk} {approval.get_status_display().lower()} by {user}.")

    def _get(self, id):
        try:
            return ApprovalRequest.objects.select_related("run", "requester", "decided_by").get(pk=id)
        except ApprovalRequest.DoesNotExist:
            raise CommandError(f"No approval request #{id}.") from None
