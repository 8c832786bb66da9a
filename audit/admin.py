"""The audit trail in admin: read-only for everyone (superusers included),
its verification status, reports, and the history of policy and limits
changes. AuditedChangesAdmin is what other apps' admins mix in to record
old and new values of what admins change."""
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from audit import services
from audit.forms import ReportForm
from audit.models import AuditEvent, ChainHead, ConfigChange, Verification
from audit.reports import Export
from audit.snapshots import changes, snapshot


class AuditedChangesAdmin:
    """Mix into a ModelAdmin (before admin.ModelAdmin): every add, change and
    delete made through it becomes one `<audit_family>.created|changed|deleted`
    event with the old and new values (inlines included), in the admin's own
    transaction. A save that changes nothing records nothing."""

    audit_family = ""

    def save_model(self, request, obj, form, change):
        # The form has already put the new values on obj; the database still has the old ones.
        request._audit_before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before, after = getattr(request, "_audit_before", None), snapshot(type(obj).objects.get(pk=obj.pk))
        diff = changes(before, after)
        if change and not diff:
            return
        action = f"{self.audit_family}.{'changed' if change else 'created'}"
        services.record_event(request.user, action, obj, {"old": before, "new": after, "changed": diff})

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._record_deletion(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._record_deletion(request, obj)
            super().delete_queryset(request, queryset)

    def _record_deletion(self, request, obj):
        before = snapshot(obj)
        services.record_event(
            request.user, f"{self.audit_family}.deleted", obj, {"old": before, "new": None, "changed": changes(before, None)}
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "actor_name", "action", "object_label", "run_id", "outcome", "pv"]
    list_filter = ["action", "outcome", "at"]
    search_fields = ["actor_name", "subject_name", "action", "object_repr", "pv", "=object_id", "=run_id"]
    date_hierarchy = "at"
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = ["seq", "at", "actor_name", "actor_id", "action", "object_type", "object_id", "object_repr",
                       "run_id", "subject_name", "outcome", "pv", "payload_pretty", "prev_hash", "hash"]
    fields = readonly_fields
    actions = ["export_csv", "export_json", "export_pdf"]
    change_list_template = "admin/audit/auditevent/change_list.html"

    @admin.display(description="payload")
    def payload_pretty(self, event):
        import json

        return format_html_join("", "<pre style='white-space:pre-wrap'>{}</pre>", [(json.dumps(event.payload, indent=2, ensure_ascii=False),)])

    def get_urls(self):
        own = [
            path("verify/", self.admin_site.admin_view(self.verify_view), name="audit_verify"),
            path("report/", self.admin_site.admin_view(self.report_view), name="audit_report"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "verification": Verification.objects.first(),
            "head": ChainHead.objects.filter(pk=1).first(),
        }
        return super().changelist_view(request, extra_context)

    def verify_view(self, request):
        if request.method != "POST":
            return redirect("admin:audit_auditevent_changelist")
        report = services.verify_chain()
        messages.add_message(request, messages.SUCCESS if report.ok else messages.ERROR, report.message)
        return redirect("admin:audit_auditevent_changelist")

    def report_view(self, request):
        form = ReportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            filters = form.cleaned_data["filters"]
            export = Export(filters.apply(AuditEvent.objects.all()), filters, request.user, form.cleaned_data["format"])
            return self._stream(export)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Audit report",
            "form": form,
            "changelist_url": reverse("admin:audit_auditevent_changelist"),
        }
        return TemplateResponse(request, "admin/audit/report.html", context, status=400 if form.errors else 200)

    def _stream(self, export):
        response = StreamingHttpResponse(export.chunks(), content_type=export.content_type())
        response["Content-Disposition"] = f'attachment; filename="{export.filename()}"'
        response["X-Audit-Events"] = str(export.count)
        return response

    def _export(self, request, queryset, fmt):
        described = {"admin_selection": request.GET.urlencode() or "rows selected on the changelist"}
        return self._stream(Export(queryset, actor=request.user, fmt=fmt, described=described))

    @admin.action(description="Export the selected events as CSV")
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description="Export the selected events as JSON")
    def export_json(self, request, queryset):
        return self._export(request, queryset, "json")

    @admin.action(description="Export the selected events as a PDF report")
    def export_pdf(self, request, queryset):
        return self._export(request, queryset, "pdf")


@admin.register(ConfigChange)
class ConfigChangeAdmin(ReadOnlyAdmin):
    """Policy and limits history: what changed, by whom, when."""

    list_display = ["at", "actor_name", "action", "object_repr", "what_changed"]
    list_filter = ["action", "object_type", "at"]
    search_fields = ["actor_name", "object_repr"]
    date_hierarchy = "at"
    fields = readonly_fields = ["seq", "at", "actor_name", "action", "object_type", "object_id", "object_repr", "what_changed"]

    def get_queryset(self, request):
        families = Q()
        for family in ConfigChange.FAMILIES:
            families |= Q(action__startswith=family)
        return super().get_queryset(request).filter(families)

    @admin.display(description="what changed (old → new)")
    def what_changed(self, event):
        diff = event.payload.get("changed") or {}
        if "pvs" in event.payload:  # an import: per PV
            diff = {f"{pv}.{name}": change for pv, fields in event.payload["pvs"].items() for name, change in fields.items()}
        return format_html_join(
            "", "<div><b>{}</b>: {} → {}</div>", [(name, repr(c.get("old")), repr(c.get("new"))) for name, c in diff.items()]
        ) or "—"
