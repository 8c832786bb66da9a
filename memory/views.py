"""The My memory page and its JSON API. Everyone sees only their own
entries; admins manage everybody's in Django admin. Thin: services do the work."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from approvals.views import _error, api_auth
from memory import services
from memory.forms import EntryForm, SearchForm
from memory.models import MemoryEntry

LIST_LIMIT = 200


def _own_entry(user, pk):
    """The user's own live entry; anything else is 404, so ids of other
    people's notes reveal nothing."""
    entry = MemoryEntry.objects.alive().filter(pk=pk, owner=user).first()
    if entry is None:
        raise Http404("No such memory entry of yours.")
    return entry


def _entries(user, query):
    return services.get_user_context(user, query=query or None, context_window_days=None, limit=LIST_LIMIT)


@login_required
def my_memory(request):
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    return render(request, "memory/my_memory.html", {"form": form, "query": query, "entries": _entries(request.user, query)})


@login_required
@require_http_methods(["GET", "POST"])
def entry_detail(request, pk):
    entry = _own_entry(request.user, pk)
    form = EntryForm(request.POST or None, initial={"content": entry.content, "tags": ", ".join(entry.tags)})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_memory(entry, request.user, form.cleaned_data["content"], tags=form.cleaned_tags())
        except services.MemoryEntryError as exc:
            form.add_error("content", str(exc))
        else:
            messages.success(request, "Memory entry saved.")
            return redirect("memory")
    return render(request, "memory/entry.html", {"entry": entry, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def delete_entry(request, pk):
    services.delete_memory(_own_entry(request.user, pk), request.user)
    messages.success(request, "Memory entry deleted.")
    return redirect("memory")


# --- JSON API ---------------------------------------------------------------------


def entry_json(entry):
    return {
        "id": entry.pk,
        "owner": entry.owner.get_username(),
        "content": entry.content,
        "tags": entry.tags,
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "source": entry.source,
        "source_run": entry.source_run_id,
        "approved_by": entry.approved_by.get_username() if entry.approved_by else None,
    }


@api_auth
@require_http_methods(["GET"])
def api_entries(request):
    """GET ?q=...: the caller's own entries, most relevant (or newest) first."""
    return JsonResponse({"results": [entry_json(e) for e in _entries(request.user, request.GET.get("q", ""))]})


@api_auth
@require_http_methods(["GET", "PATCH", "DELETE"])
def api_entry(request, pk):
    entry = MemoryEntry.objects.alive().filter(pk=pk, owner=request.user).first()
    if entry is None:
        return _error(f"No memory entry #{pk} of yours.", 404)
    if request.method == "DELETE":
        services.delete_memory(entry, request.user)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        try:
            body = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(f"The body is not valid JSON ({exc}).", 400)
        if not isinstance(body, dict) or not isinstance(body.get("content", entry.content), str):
            return _error('Send a JSON object like {"content": "...", "tags": ["..."]}.', 400)
        tags = body.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            return _error('"tags" must be a list of strings.', 400)
        try:
            entry = services.update_memory(entry, request.user, body.get("content", entry.content), tags=tags)
        except services.MemoryEntryError as exc:
            return _error(str(exc), 400)
    return JsonResponse(entry_json(entry))
