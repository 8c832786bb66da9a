from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from approvals import views
from execution import views as execution_views


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="runs", permanent=False)),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval-detail"),
    path("approvals/<int:pk>/notebook/", execution_views.approval_notebook, name="approval-notebook"),
    path("executions/", include("execution.urls")),
    path("api/runs/", views.api_runs, name="api-runs"),
    path("api/runs/<int:pk>/", views.api_run, name="api-run"),
    path("providers/", include("providers.urls")),
    path("memory/", include("memory.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
