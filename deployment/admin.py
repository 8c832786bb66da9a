from django.contrib import admin, messages

from deployment import services
from deployment.catalog import DeploymentError
from deployment.models import Alert, DeploymentEnvironment, HealthRecord, Restart, Service


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class HealthRecordInline(ReadOnlyInline):
    model = HealthRecord
    fields = ["checked_at", "state", "healthy", "detail", "latency_ms"]
    verbose_name_plural = "Health history (newest first; the last 20 here, all under Health records)"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        newest = queryset.values_list("pk", flat=True)[:20]
        return queryset.filter(pk__in=list(newest))


class RestartInline(ReadOnlyInline):
    model = Restart
    fields = ["at", "by", "succeeded", "reason"]


class AlertInline(ReadOnlyInline):
    model = Alert
    fields = ["raised_at", "message", "resolved_at"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "environment", "group", "desired_state", "state", "health", "restart_count", "given_up_at", "checked_at"]
    list_filter = ["environment", "group", "desired_state", "health"]
    search_fields = ["name", "group", "container_id"]
    readonly_fields = [f.name for f in Service._meta.fields]
    inlines = [HealthRecordInline, RestartInline, AlertInline]
    actions = ["restart"]

    def has_add_permission(self, request):
        return False  # services come from deploy up

    @admin.display(description="Restarts")
    def restart_count(self, obj):
        return obj.restarts.count()

    @admin.action(description="Restart the selected services")
    def restart(self, request, queryset):
        for row in queryset:
            try:
                ok = services.restart_service(row, by=request.user.get_username())
            except DeploymentError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            level = messages.SUCCESS if ok else messages.ERROR
            self.message_user(request, f"{row}: {'restarted' if ok else 'restart failed (see its restarts)'}.", level)


@admin.register(HealthRecord)
class HealthRecordAdmin(admin.ModelAdmin):
    list_display = ["service", "checked_at", "state", "healthy", "latency_ms", "detail"]
    list_filter = ["healthy", "state", "service__environment", "service__name"]
    readonly_fields = ["service", "checked_at", "state", "healthy", "detail", "latency_ms"]

    def has_add_permission(self, request):
        return False


@admin.register(Restart)
class RestartAdmin(admin.ModelAdmin):
    list_display = ["service", "at", "by", "succeeded", "reason"]
    list_filter = ["by", "succeeded", "service__environment"]
    readonly_fields = ["service", "at", "by", "succeeded", "reason"]

    def has_add_permission(self, request):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["service", "raised_at", "message", "resolved_at"]
    list_filter = ["resolved_at", "service__environment"]
    readonly_fields = ["service", "raised_at", "message"]

    def has_add_permission(self, request):
        return False


@admin.register(DeploymentEnvironment)
class DeploymentEnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "updated_at"]
    search_fields = ["name"]
