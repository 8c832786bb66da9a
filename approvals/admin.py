from django.contrib import admin

from audit.admin import AuditedChangesAdmin
from approvals.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, Plan, PlanStep, ReviewRule, Run


class PlanStepInline(admin.TabularInline):
    model = PlanStep
    extra = 0
    fields = ["order", "capability", "objective", "inputs", "status"]
    readonly_fields = fields
    can_delete = False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "planning_mode", "created_at", "finished_at"]
    list_filter = ["status", "planning_mode", "created_at"]
    search_fields = ["request_text", "message", "user__username", "thread_id"]
    readonly_fields = ["user", "request_text", "planning_mode", "status", "message", "thread_id", "created_at", "updated_at", "finished_at"]
    date_hierarchy = "created_at"


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "planner", "created_at"]
    list_filter = ["planner"]
    search_fields = ["run__request_text", "run__user__username"]
    readonly_fields = ["run", "planner", "created_at"]
    inlines = [PlanStepInline]


@admin.register(PlanStep)
class PlanStepAdmin(admin.ModelAdmin):
    list_display = ["id", "plan", "order", "capability", "status"]
    list_filter = ["capability", "status"]
    search_fields = ["objective", "plan__run__request_text"]
    readonly_fields = ["plan", "order", "capability", "objective", "inputs", "status"]


class ApprovalDecisionInline(admin.TabularInline):
    model = ApprovalDecision
    extra = 0
    fields = ["reviewer", "verdict", "comment", "edited_content", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReviewRuleInline(admin.TabularInline):
    model = ReviewRule
    extra = 0
    fields = ["kind", "reviewer_group", "quorum", "expiry_minutes", "escalation_group", "escalate_before_minutes"]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    # Decisions are made on the reviewer pages or the CLI (services.decide),
    # never by editing a row here.
    list_display = ["id", "kind", "status", "run", "requester", "decided_by", "created_at", "decided_at"]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["reason", "comment", "requester__username", "decided_by__username", "run__request_text"]
    readonly_fields = [f.name for f in ApprovalRequest._meta.fields]
    inlines = [ApprovalDecisionInline]

    def has_add_permission(self, request):
        return False


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(AuditedChangesAdmin, admin.ModelAdmin):
    audit_family = "policy"
    list_display = ["name", "is_active", "global_mode", "python_mode", "planning_approval", "memory_approval", "writes_enabled", "updated_at"]
    list_filter = ["is_active", "global_mode", "python_mode", "writes_enabled"]
    search_fields = ["name"]
    inlines = [ReviewRuleInline]
