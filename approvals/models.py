"""A run's records: the request, its plan, and the approvals it waits on.

State changes go through approvals.services; these models only describe.
"""
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PLANNING = "planning", "Planning"
        WAITING = "waiting_approval", "Waiting for approval"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        REJECTED = "rejected", "Rejected"
        REFUSED = "refused", "Refused by policy"
        FAILED = "failed", "Failed"

    TERMINAL = {Status.FINISHED, Status.REJECTED, Status.REFUSED, Status.FAILED}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="runs")
    request_text = models.TextField()
    planning_mode = models.BooleanField(default=False, help_text="Request started with /planning: the plan needs approval.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    message = models.TextField(blank=True, help_text="What the operator should know about the outcome.")
    context = models.JSONField(default=dict, blank=True, help_text="What the data sources returned before planning.")
    thread_id = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Run #{self.pk} by {self.user} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        if not self.thread_id:
            self.thread_id = f"run-{uuid.uuid4().hex}"
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("run-detail", args=[self.pk])

    @property
    def is_finished(self):
        return self.status in self.TERMINAL


class Plan(models.Model):
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="plan")
    planner = models.CharField(max_length=100, help_text="Which planner wrote it: 'direct' or the LLM model id.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Plan for run #{self.run_id}"


class PlanStep(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        WAITING = "waiting_approval", "Waiting for approval"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        REJECTED = "rejected", "Rejected"
        REFUSED = "refused", "Refused by policy"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    capability = models.CharField(max_length=50)
    objective = models.TextField(blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)

    class Meta:
        ordering = ["plan", "order"]
        constraints = [models.UniqueConstraint(fields=["plan", "order"], name="unique_step_order")]

    def __str__(self):
        return f"Step {self.order + 1}: {self.capability}"

    @property
    def code(self):
        return self.inputs.get("code", "") if isinstance(self.inputs, dict) else ""


class ApprovalRequest(models.Model):
    class Kind(models.TextChoices):
        PLAN = "plan", "Plan"
        CODE = "code", "Code"
        MEMORY = "memory", "Memory"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="approvals")
    # Identifies the approval point inside the run ("plan", "step-0-code"):
    # a graph node that re-runs after resume finds its request, not a new one.
    interrupt_key = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    context = models.JSONField(default=dict, help_text="Everything the reviewer needs to decide.")
    reason = models.TextField(blank=True, help_text="The policy rule that required approval.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # Set once when a worker takes the decision back into the graph: the
    # decision is handed over at most once.
    resumed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Governance copied from the policy's rule when the request opens, so a
    # later policy edit does not change what an open request needs.
    reviewer_group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Only members may decide (superusers always may). Empty: the 'reviewers' group.",
    )
    quorum = models.PositiveSmallIntegerField(default=1, help_text="Distinct approvals needed.")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    escalation_group = models.ForeignKey("auth.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # What the reviewers approved when they edited it (code text, or a plan's
    # steps as JSON); the original stays in context.
    approved_content = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["run", "interrupt_key"], name="one_request_per_interrupt")]

    def __str__(self):
        return f"Approval #{self.pk} ({self.get_kind_display()}, {self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("approval-detail", args=[self.pk])

    @property
    def is_pending(self):
        return self.status == self.Status.PENDING

    @property
    def approvals_given(self):
        """Approvals toward the quorum. They count only for the version on the
        table: an edit restarts the count (the editor's own approval counts)."""
        decisions = list(self.decisions.all())
        last_edit = max((i for i, d in enumerate(decisions) if d.edited_content is not None), default=0)
        return sum(1 for d in decisions[last_edit:] if d.verdict == ApprovalDecision.Verdict.APPROVE)


class ApprovalDecision(models.Model):
    """One reviewer's vote on a request. A request is decided when the quorum
    approves, or on the first rejection."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    approval = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    edited_content = models.JSONField(null=True, blank=True, help_text="The reviewer's edit, if they edited before approving.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["approval", "reviewer"], name="one_vote_per_reviewer")]

    def __str__(self):
        return f"{self.reviewer} {self.verdict}s #{self.approval_id}"


class ApprovalPolicy(models.Model):
    """When a human must approve. Exactly one policy is active; none means 'approve everything'."""

    class GlobalMode(models.TextChoices):
        DISABLED = "disabled", "Disabled: no approvals"
        SELECTIVE = "selective", "Selective: per capability settings"
        ALL = "all_capabilities", "All capabilities need approval"

    class PythonMode(models.TextChoices):
        DISABLED = "disabled", "Disabled: code runs without approval"
        EPICS_WRITES = "epics_writes", "Only code that may write to EPICS"
        ALL_CODE = "all_code", "All code"

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=False, help_text="The one policy in force.")
    global_mode = models.CharField(max_length=20, choices=GlobalMode.choices, default=GlobalMode.SELECTIVE)
    python_mode = models.CharField(max_length=20, choices=PythonMode.choices, default=PythonMode.EPICS_WRITES)
    planning_approval = models.BooleanField(default=True, help_text="Plans made in planning mode (/planning) need approval.")
    memory_approval = models.BooleanField(default=True, help_text="Saving to a user's memory needs approval.")
    writes_enabled = models.BooleanField(
        default=False, help_text="Master switch: when off, code that writes to EPICS is refused before approval."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "approval policies"
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="one_active_policy")
        ]

    def __str__(self):
        return f"{self.name}{' (active)' if self.is_active else ''}"

    # "control_writes" is the reference framework's name for epics_writes;
    # any other unknown name is refused by the field's choices.
    def clean_fields(self, exclude=None):
        self._accept_alias()
        super().clean_fields(exclude)

    def save(self, *args, **kwargs):
        self._accept_alias()
        super().save(*args, **kwargs)

    def _accept_alias(self):
        if self.python_mode == "control_writes":
            self.python_mode = self.PythonMode.EPICS_WRITES

    def rule_for(self, kind):
        return self.review_rules.filter(kind=kind).select_related("reviewer_group", "escalation_group").first()

    @classmethod
    def current(cls):
        """The active policy, or None (callers treat None as 'approval required')."""
        return cls.objects.filter(is_active=True).first()


class ReviewRule(models.Model):
    """Who reviews one kind of request under a policy, how many must agree,
    and how long a request may wait."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="review_rules")
    kind = models.CharField(max_length=10, choices=ApprovalRequest.Kind.choices)
    reviewer_group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Who may decide. Empty: the 'reviewers' group.",
    )
    quorum = models.PositiveSmallIntegerField(default=1, help_text="Distinct approvals needed (the requester never counts).")
    expiry_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Undecided requests expire after this long: expired means rejected, nothing runs."
    )
    escalation_group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Notified before the request expires.",
    )
    escalate_before_minutes = models.PositiveIntegerField(default=5, help_text="How long before expiry to notify.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "kind"], name="one_rule_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} review rule"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.quorum < 1:
            raise ValidationError({"quorum": "At least one approval is needed."})
