from django.conf import settings
from django.contrib import admin, messages

from audit.admin import AuditedChangesAdmin
from execution import services
from execution.models import EpicsWrite, ExecutionLimits, ExecutionRecord, PvLimit


class EpicsWriteInline(admin.TabularInline):
    model = EpicsWrite
    fields = ["at", "pv", "requested", "before", "readback", "outcome", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExecutionRecord)
class ExecutionRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "step", "state", "executor", "writes_allowed", "exit_code", "approved_by", "started_at", "duration_ms"]
    list_filter = ["state", "executor", "writes_allowed", "started_at"]
    search_fields = ["code", "stdout", "stderr", "step__plan__run__request_text"]
    readonly_fields = [f.name for f in ExecutionRecord._meta.fields]
    inlines = [EpicsWriteInline]
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel the selected running executions")
    def cancel(self, request, queryset):
        count = sum(services.cancel_execution(record, request.user) for record in queryset)
        self.message_user(request, f"Cancel requested for {count} running execution(s).", messages.SUCCESS)


@admin.register(ExecutionLimits)
class ExecutionLimitsAdmin(AuditedChangesAdmin, admin.ModelAdmin):
    audit_family = "limits"
    list_display = ["__str__", "executor", "wall_time_seconds", "cpu_seconds", "memory_mb", "max_processes", "output_bytes", "file_size_mb"]
    readonly_fields = ["executor", "updated_at"]

    @admin.display(description="Executor (ABF_EXECUTOR)")
    def executor(self, obj):
        if settings.ABF_EXECUTOR == "container" and settings.ABF_EXECUTOR_DEPLOYMENT:
            return (
                f"container: kernels join the executor-read / executor-write services "
                f"of deployment {settings.ABF_EXECUTOR_DEPLOYMENT!r}"
            )
        return settings.ABF_EXECUTOR

    def has_add_permission(self, request):
        return not ExecutionLimits.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PvLimit)
class PvLimitAdmin(AuditedChangesAdmin, admin.ModelAdmin):
    audit_family = "limits"
    list_display = ["pv", "writable", "min_value", "max_value", "max_step", "verification", "tolerance_percent"]
    list_filter = ["writable", "verification"]
    search_fields = ["pv", "description"]


@admin.register(EpicsWrite)
class EpicsWriteAdmin(admin.ModelAdmin):
    list_display = ["at", "pv", "requested", "before", "readback", "outcome", "execution"]
    list_filter = ["outcome", "at"]
    search_fields = ["pv"]
    readonly_fields = [f.name for f in EpicsWrite._meta.fields]

    def has_add_permission(self, request):
        return False
