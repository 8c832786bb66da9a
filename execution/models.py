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
        KILLED_BY_LIMIT = "killed_by_limit", "Killed by a limit"
        CANCELLED = "cancelled", "Cancelled"
        REFUSED = "refused", "Refused"
        INTERRUPTED = "interrupted", "Interrupted (not re-run)"

    step = models.OneToOneField("approvals.PlanStep", on_delete=models.PROTECT, related_name="execution")
    code = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING, db_index=True)
    exit_code = models.IntegerField(null=True, blank=True)
    stdout = models.TextField(blank=True)
    stderr = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True, help_text="The `results` the code set, as JSON.")
    error = models.JSONField(null=True, blank=True, help_text="Exception type, message and traceback.")
    executor = models.CharField(max_length=20, blank=True)
    writes_allowed = models.BooleanField(default=False, help_text="The run had approved EPICS write permission.")
    notes = models.TextField(blank=True, help_text="What the executor says about this run: limits hit, sandbox warnings.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker running it (every few seconds)."
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


class ExecutionLimits(models.Model):
    """What one execution may use. One row (the singleton): edit it in admin.
    The defaults are the safe ones."""

    wall_time_seconds = models.PositiveIntegerField(default=60)
    cpu_seconds = models.PositiveIntegerField(default=60)
    memory_mb = models.PositiveIntegerField(default=1024, help_text="Address space of the process (RLIMIT_AS).")
    max_processes = models.PositiveIntegerField(default=64, help_text="Processes and threads at once.")
    output_bytes = models.PositiveIntegerField(default=1024 * 1024, help_text="stdout and stderr kept, each.")
    file_size_mb = models.PositiveIntegerField(default=64, help_text="Largest file the code may write.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "execution limits"

    def __str__(self):
        return "Execution limits"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls):
        return cls.objects.get_or_create(pk=1)[0]


class PvLimit(models.Model):
    """Write limits of one EPICS PV. A PV without a row is never written."""

    class Verification(models.TextChoices):
        NONE = "none", "None (fire and forget)"
        CALLBACK = "callback", "Callback (wait for completion)"
        READBACK = "readback", "Readback (compare within tolerance)"

    pv = models.CharField("PV", max_length=200, unique=True)
    writable = models.BooleanField(default=False)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    max_step = models.FloatField(
        null=True, blank=True, help_text="Largest change from the current value (read first; unreadable = refused)."
    )
    verification = models.CharField(max_length=10, choices=Verification.choices, default=Verification.READBACK)
    tolerance_percent = models.FloatField(default=0.1)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pv"]
        verbose_name = "PV write limit"

    def __str__(self):
        return self.pv

    def as_dict(self):
        return {
            "writable": self.writable,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "max_step": self.max_step,
            "verification": self.verification,
            "tolerance_percent": self.tolerance_percent,
        }


class EpicsWrite(models.Model):
    """One EPICS write attempt made by executed code, as the write guard saw it."""

    class Outcome(models.TextChoices):
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"
        CONFIRMED = "confirmed", "Confirmed"
        MISMATCH = "mismatch", "Mismatch"
        UNCONFIRMED = "unconfirmed", "Unconfirmed"
        UNREQUESTED = "unrequested", "Sent, verification not requested"

    execution = models.ForeignKey(ExecutionRecord, on_delete=models.CASCADE, related_name="epics_writes")
    pv = models.CharField("PV", max_length=200, db_index=True)
    requested = models.JSONField(null=True)
    before = models.JSONField(null=True, blank=True)
    readback = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, db_index=True)
    message = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.pv} = {self.requested!r} ({self.outcome})"


class ExecutionArtifact(models.Model):
    """A file an execution produced: the notebook shown to the reviewer
    before it ran, the executed notebook with its outputs, and each figure.
    Kept in the database with the record, so they are saved (or not) in the
    same transaction as the outcome they belong to."""

    class Kind(models.TextChoices):
        SOURCE_NOTEBOOK = "source_notebook", "Notebook before execution"
        NOTEBOOK = "notebook", "Executed notebook"
        FIGURE = "figure", "Figure"

    execution = models.ForeignKey(ExecutionRecord, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=200, help_text="File name for download, e.g. figure-1.png.")
    content_type = models.CharField(max_length=100)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["execution", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["execution", "name"], name="unique_artifact_name")]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"
