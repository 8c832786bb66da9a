"""The context page: what each provider would give the planner for a request."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from providers import services
from providers.base import DataSourceRequest
from providers.forms import ContextQueryForm
from providers.registry import is_enabled, registry


@login_required
@require_GET
def context(request):
    # GET, not POST: providers only read, and a query is worth a link.
    form = ContextQueryForm(request.GET or None)
    result = None
    if form.is_valid():
        try:
            data_request = DataSourceRequest(user=request.user, requester="page", query=form.cleaned_data["q"])
        except ValueError as exc:
            form.add_error("q", str(exc))
        else:
            result = services.retrieve_all_context(data_request)
    providers = [
        {"provider": p, "enabled": is_enabled(type(p))} for p in registry.providers(include_disabled=True)
    ]
    return render(
        request,
        "providers/context.html",
        {"form": form, "result": result, "providers": providers},
        status=400 if form.errors else 200,
    )
