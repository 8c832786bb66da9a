"""Files of executions (figures, notebooks) and cancelling a running one."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from approvals.models import ApprovalPolicy, ApprovalRequest
from approvals.views import can_cancel, can_see_run
from execution import notebooks, services
from execution.models import ExecutionArtifact, ExecutionRecord

NOTEBOOK_TYPE = "application/x-ipynb+json"
# Figures a browser may show inline. Anything else is downloaded, never rendered.
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml"}
# Executed code made these files: whatever they contain, a browser opening
# one on its own runs no script, loads nothing and gets no origin (an SVG may
# carry <script>; in an <img> it never runs, opened directly this stops it).
SANDBOX = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


def file_response(data, filename, content_type):
    inline = content_type in IMAGE_TYPES
    if not inline and content_type != NOTEBOOK_TYPE:
        content_type = "application/octet-stream"
    response = HttpResponse(bytes(data), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def artifact(request, execution_id, name):
    """One file of an execution, for whoever may see its run."""
    found = (
        ExecutionArtifact.objects.select_related("execution__step__plan__run")
        .filter(execution_id=execution_id, name=name)
        .first()
    )
    if found is None or not can_see_run(request.user, found.execution.run):
        raise Http404(f"Execution #{execution_id} has no file {name!r} that you can see.")
    if found.kind == ExecutionArtifact.Kind.FIGURE:
        return file_response(found.data, found.name, found.content_type)
    filename = found.name if found.name.endswith(".ipynb") else found.name + ".ipynb"
    return file_response(found.data, filename, NOTEBOOK_TYPE)


@login_required
@require_GET
def approval_notebook(request, pk):
    """The code under review as a notebook to open in Jupyter before
    deciding; ?version=edited gives the reviewers' edit."""
    approval = get_object_or_404(ApprovalRequest.objects.select_related("run"), pk=pk)
    if approval.kind != ApprovalRequest.Kind.CODE or not can_see_run(request.user, approval.run):
        raise Http404("No code approval with that number that you can see.")
    order = (approval.context.get("step") or {}).get("order", 1)
    name = f"approval-{approval.pk}-step-{order}"
    title = f"Run #{approval.run_id}, step {order}: code for approval #{approval.pk}"
    if request.GET.get("version") == "edited":
        if not isinstance(approval.approved_content, str):
            raise Http404("This request has no edited version.")
        code = approval.approved_content
        analysis, decision = services.review_code(code, ApprovalPolicy.current())
        findings, reasons = [f.to_dict() for f in analysis.findings], decision.reasons
        name, title = name + "-edited", title + " (the reviewers' edit)"
    else:
        code = approval.context.get("code", "")
        findings = (approval.context.get("analysis") or {}).get("findings", [])
        reasons = approval.context.get("reasons", [])
    notebook = notebooks.source_notebook(code, title, notebooks.review_notes(reasons, findings))
    return file_response(notebooks.to_bytes(notebook), name + ".ipynb", NOTEBOOK_TYPE)


@login_required
@require_POST
def cancel(request, execution_id):
    """The run page's Cancel button: for the run's owner and staff."""
    record = get_object_or_404(ExecutionRecord.objects.select_related("step__plan__run"), pk=execution_id)
    run = record.run
    if not can_cancel(request.user, run):
        return HttpResponseForbidden(
            "Only the person who started this run, or staff, may cancel it.", content_type="text/plain"
        )
    step = record.step.order + 1
    if services.cancel_execution(record, request.user):
        messages.success(request, f"Cancelling step {step}: it stops within a few seconds.")
    else:
        record.refresh_from_db()
        if record.state == ExecutionRecord.State.RUNNING:
            messages.info(request, f"Step {step} is already being cancelled.")
        else:
            messages.info(
                request, f"Step {step} had already ended ({record.get_state_display().lower()}): nothing to cancel."
            )
    return redirect(run)
