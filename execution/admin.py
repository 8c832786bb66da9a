from django.contrib import admin

from execution.models import ExecutionRecord


@admin.register(ExecutionRecord)
class ExecutionRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "step", "state", "exit_code", "approved_by", "started_at", "duration_ms"]
    list_filter = ["state", "started_at"]
    search_fields = ["code", "stdout", "stderr", "step__plan__run__request_text"]
    readonly_fields = [f.name for f in ExecutionRecord._meta.fields]

    def has_add_permission(self, request):
        return False
