"""Operator and reviewer pages, and the JSON API. Thin: services do the work."""
import base64
import binascii
import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from approvals import planning, services
from approvals.highlight import highlighted_lines, style_definitions
from approvals.forms import DecisionForm, RunForm
from approvals.models import ApprovalPolicy, ApprovalRequest, Run
from approvals.planning import PlanningError
from approvals.serializers import execution_json, run_json
from execution import services as execution_services
from execution.models import ExecutionRecord

PAGE_SIZE = 25


def visible_runs(user):
    """Operators see their own runs; reviewers and admins see all."""
    runs = Run.objects.select_related("user")
    if user.is_superuser or user.groups.filter(name=services.REVIEWERS_GROUP).exists():
        return runs
    return runs.filter(user=user)


def can_see_run(user, run):
    """Whoever sees the run page, and the reviewers its approvals were put
    to (a specialist group sees what it was asked to judge, and what came of it)."""
    if visible_runs(user).filter(pk=run.pk).exists():
        return True
    groups = user.groups.values("pk")
    return run.approvals.filter(Q(reviewer_group__in=groups) | Q(escalation_group__in=groups)).exists()


def can_cancel(user, run):
    return user.is_staff or user.is_superuser or run.user_id == user.pk


# --- Operator pages -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def runs(request):
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.submit_run(request.user, form.cleaned_data["request"])
        except PlanningError as exc:
            form.add_error("request", str(exc))
        else:
            messages.success(request, f"Run #{run.pk} queued.")
            return redirect(run)
    page = Paginator(Run.objects.filter(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if form.errors else 200
    return render(request, "approvals/runs.html", {"form": form, "page": page}, status=status)


@login_required
def run_detail(request, pk):
    run = get_object_or_404(visible_runs(request.user), pk=pk)
    return render(
        request,
        "approvals/run_detail.html",
        {
            "run": run,
            "data": run_json(run),
            "can_cancel": can_cancel(request.user, run),
            # The page ticks elapsed time on the browser's clock, corrected by this.
            "server_now": timezone.now().isoformat(),
        },
    )


# --- Reviewer pages -------------------------------------------------------------


@login_required
def approvals(request):
    pending = ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING).select_related("run", "requester")
    decided = ApprovalRequest.objects.exclude(status=ApprovalRequest.Status.PENDING).select_related(
        "run", "requester", "decided_by"
    )
    page = Paginator(decided, PAGE_SIZE).get_page(request.GET.get("page"))
    # Show each reviewer what they may decide; the socket applies the same rule.
    decidable = [a for a in pending.order_by("created_at") if services.can_decide(request.user, a)[0]]
    return render(request, "approvals/approvals.html", {"pending": decidable, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def approval_detail(request, pk):
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("run", "requester", "decided_by", "reviewer_group"), pk=pk
    )
    form = DecisionForm(request.POST or None)
    preview, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                edited = _parse_edit(approval, form.cleaned_data["edited"]) if decision.endswith("_edit") else None
                if decision == "preview_edit":
                    preview = _edit_preview(approval, edited)
                else:
                    services.decide(
                        approval,
                        request.user,
                        approve=decision in ("approve", "approve_edit"),
                        comment=form.cleaned_data["comment"],
                        edited=edited,
                    )
                    approval.refresh_from_db()
                    messages.success(request, f"Your decision on approval #{approval.pk} is recorded ({approval.get_status_display().lower()}).")
                    return redirect("approvals")
            except services.DecisionError as exc:
                form.add_error(None, str(exc))
        if form.errors:
            status = 400
        approval.refresh_from_db()
    allowed, why_not = services.can_decide(request.user, approval)
    sees_run = can_see_run(request.user, approval.run)
    ctx = approval.context
    analysis = ctx.get("analysis") or {}
    return render(
        request,
        "approvals/approval_detail.html",
        {
            "approval": approval,
            "form": form,
            "can_decide": allowed,
            "why_not": why_not,
            "code_lines": highlighted_lines(ctx["code"], analysis.get("findings", []))
            if ctx.get("code")
            else None,
            "editable": approval.kind in (ApprovalRequest.Kind.CODE, ApprovalRequest.Kind.PLAN),
            "edit_text": form.data.get("edited") or _edit_text(approval),
            "preview": preview,
            "decisions": approval.decisions.select_related("reviewer"),
            "code_style": style_definitions(),
            # What the approval led to, and the notebook download: for those who may see the run.
            "sees_run": sees_run,
            "executions": [execution_json(e) for e in _executions_of(approval)] if sees_run else [],
        },
        status=status,
    )


def _executions_of(approval):
    """What the approval led to: a code approval, its step's execution; a
    plan approval, every step that ran."""
    records = ExecutionRecord.objects.filter(step__plan__run=approval.run_id).select_related("step", "approved_by")
    if approval.kind == ApprovalRequest.Kind.CODE:
        records = [r for r in records if approval.interrupt_key == f"step-{r.step.order}-code"]
    elif approval.kind != ApprovalRequest.Kind.PLAN:
        return []
    return sorted(records, key=lambda r: r.step.order)


def _edit_text(approval):
    if approval.approved_content is not None:
        content = approval.approved_content
    elif approval.kind == ApprovalRequest.Kind.CODE:
        content = approval.context.get("code", "")
    else:
        content = [{k: s[k] for k in ("capability", "objective", "inputs")} for s in approval.context.get("steps", [])]
    return content if isinstance(content, str) else json.dumps(content, indent=2)


def _parse_edit(approval, text):
    if approval.kind == ApprovalRequest.Kind.PLAN:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise services.DecisionError(f"The edited plan is not valid JSON ({exc}).") from None
    return text


def _edit_preview(approval, edited):
    """What the reviewer confirms: the edited version, re-checked."""
    if approval.kind == ApprovalRequest.Kind.CODE:
        if not edited.strip():
            raise services.DecisionError("The edited code is empty.")
        analysis, decision = execution_services.review_code(edited, ApprovalPolicy.current())
        findings = [f.to_dict() for f in analysis.findings]
        return {"code_lines": highlighted_lines(edited, findings), "reasons": decision.reasons, "refused": decision.refused}
    try:
        steps = planning.validate_steps(edited)
    except planning.PlanningError as exc:
        raise services.DecisionError(f"The edited plan is not valid: {exc}") from None
    return {"steps": [dict(s.as_dict(), order=i) for i, s in enumerate(steps, start=1)]}


# --- JSON API ---------------------------------------------------------------------


def api_auth(view):
    """Session login, or HTTP Basic for scripts. Basic-authenticated calls
    carry no cookie, so CSRF does not apply to them; session calls keep it."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.lower().startswith("basic "):
            try:
                username, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return _error("Malformed Authorization header.", 401)
            user = authenticate(request, username=username, password=password)
            if user is None:
                return _error("Wrong username or password.", 401)
            request.user = user
            return view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return _error("Log in, or send HTTP Basic credentials.", 401)
        from django.middleware.csrf import CsrfViewMiddleware

        if request.method not in ("GET", "HEAD", "OPTIONS"):
            reason = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if reason is not None:
                return _error("CSRF check failed: send the X-CSRFToken header with session logins.", 403)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)


def _error(message, status):
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="abf"'
    return response


@api_auth
@require_http_methods(["GET", "POST"])
def api_runs(request):
    if request.method == "GET":
        page = Paginator(visible_runs(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
        return JsonResponse(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": [run_json(run) for run in page],
            }
        )
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(f'The body is not valid JSON ({exc}). Send {{"request": "..."}}.', 400)
    if not isinstance(body, dict) or not isinstance(body.get("request"), str):
        return _error('Send a JSON object with a "request" string, e.g. {"request": "print(1)"}.', 400)
    try:
        run = services.submit_run(request.user, body["request"])
    except PlanningError as exc:
        return _error(str(exc), 400)
    return JsonResponse(run_json(run), status=201)


@api_auth
@require_http_methods(["GET"])
def api_run(request, pk):
    run = visible_runs(request.user).filter(pk=pk).first()
    if run is None:
        return _error(f"No run #{pk} that you can see.", 404)
    return JsonResponse(run_json(run))
