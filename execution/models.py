from django.conf import settings
from django.db import models


class ExecutionRecord(models.Model):
    """One execution of one plan step. Created before the code starts, so a
    crash mid-run leaves a record that says so instead of a silent re-run."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"
        INTERRUPTED = "interrupted", "Interrupted (not re-run)"

    step = models.OneToOneField("approvals.PlanStep", on_delete=models.PROTECT, related_name="execution")
    code = models.TextField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING, db_index=True)
    exit_code = models.IntegerField(null=True, blank=True)
    stdout = models.TextField(blank=True)
    stderr = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Execution #{self.pk} ({self.get_state_display()})"

    @property
    def run(self):
        return self.step.plan.run
