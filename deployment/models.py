"""What abf knows about the services it deployed: their desired state, the
health history the monitor records, every restart, and the alerts raised
when a restart policy gives up. Environments admins add live here too."""
from django.core.exceptions import ValidationError
from django.db import models


class DeploymentEnvironment(models.Model):
    """An environment added in admin: the same overlay as an
    environments/<name>.yml file (a row overrides a file of the same name)."""

    name = models.SlugField(max_length=40, unique=True, help_text="Lower-case letters, digits and '-', e.g. staging.")
    overlay = models.TextField(
        blank=True,
        help_text="YAML: description, network_mode (host, none, or empty for the shared network), groups (only these), "
        "values (what the templates render with) and services (per-service overrides, e.g. "
        "observability: {enabled: true}).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def as_environment(self):
        from deployment.catalog import parse_yaml
        from deployment.rendering import parse_environment

        source = f"environment {self.name} (admin)"
        return parse_environment(self.name, parse_yaml(self.overlay or "", source), source)

    def clean(self):
        from deployment.catalog import DeploymentError

        try:
            self.as_environment()
        except DeploymentError as exc:
            raise ValidationError({"overlay": str(exc)})


class Service(models.Model):
    RUNNING, STOPPED = "running", "stopped"
    HEALTHY, UNHEALTHY, UNKNOWN = "healthy", "unhealthy", "unknown"

    environment = models.CharField(max_length=40)
    name = models.CharField(max_length=80)
    group = models.CharField(max_length=80)
    desired_state = models.CharField(
        max_length=10, choices=[(RUNNING, "running"), (STOPPED, "stopped")], default=STOPPED,
        help_text="What deploy up/down asked for; the monitor restarts only services meant to run.",
    )
    container_id = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=20, blank=True, help_text="The container's state at the last check.")
    health = models.CharField(max_length=10, default=UNKNOWN)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the restart policy's limit was reached; the monitor stops restarting it."
    )

    class Meta:
        ordering = ["environment", "group", "name"]
        constraints = [models.UniqueConstraint(fields=["environment", "name"], name="deployment_service_unique_name")]

    def __str__(self):
        return f"{self.name} ({self.environment})"

    @property
    def container_name(self):
        return f"abf-{self.environment}-{self.name}"


class HealthRecord(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="health_records")
    checked_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=20, help_text="Container state: running, exited, missing, ...")
    healthy = models.BooleanField(null=True)
    detail = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]


class Restart(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="restarts")
    at = models.DateTimeField(db_index=True)
    reason = models.TextField()
    by = models.CharField(max_length=150, help_text="monitor, a command, or the admin who asked")
    succeeded = models.BooleanField(default=True)

    class Meta:
        ordering = ["-at", "-id"]


class Alert(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="alerts")
    raised_at = models.DateTimeField()
    message = models.TextField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self):
        return self.message[:80]
