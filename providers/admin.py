from django.contrib import admin

from providers.models import ProviderStatus
from providers.services import sync_provider_statuses


@admin.register(ProviderStatus)
class ProviderStatusAdmin(admin.ModelAdmin):
    # Read-only: providers are enabled and configured in ABF_DATA_SOURCES,
    # and their status is what their runs and health checks last found.
    list_display = [
        "name", "enabled", "registered", "timeout", "last_health_ok", "last_health_at",
        "last_outcome", "last_latency_ms", "short_error", "last_run_at",
    ]
    list_filter = ["enabled", "registered", "last_health_ok", "last_outcome"]
    search_fields = ["name", "description", "last_error", "last_health_error"]
    readonly_fields = [f.name for f in ProviderStatus._meta.fields]

    def changelist_view(self, request, extra_context=None):
        # Every provider an installed app registers is listed, enabled or not,
        # even before its first run.
        sync_provider_statuses()
        return super().changelist_view(request, extra_context)

    @admin.display(description="last error")
    def short_error(self, status):
        return status.last_error[:80]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
