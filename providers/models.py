"""Each data-source provider as admin sees it.

Written only by providers.services: the configuration columns are synced
from the registry and settings (ABF_DATA_SOURCES is where providers are
enabled and configured, not here), the last_* columns from retrievals and
health checks.
"""
from django.db import models

from providers.base import DEFAULT_TIMEOUT


class ProviderStatus(models.Model):
    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    context_type = models.CharField(max_length=100, blank=True)
    registered = models.BooleanField(default=True, help_text="An installed app registers this provider.")
    enabled = models.BooleanField(default=False, help_text="As resolved from ABF_DATA_SOURCES and the provider's default.")
    timeout = models.FloatField(
        default=DEFAULT_TIMEOUT, help_text="Seconds a retrieval may take before it is reported timed out."
    )
    last_health_ok = models.BooleanField(
        null=True, blank=True, help_text="Empty: never checked, or the provider has no health check."
    )
    last_health_at = models.DateTimeField(null=True, blank=True)
    last_health_error = models.TextField(blank=True)
    last_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Why the last retrieval failed; empty if it succeeded.")
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "provider statuses"

    def __str__(self):
        return self.name
