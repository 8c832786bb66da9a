"""A user's memory: notes the agent keeps for one person across runs.

State changes go through memory.services; these models only describe.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone


class MemoryEntryQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class MemoryEntry(models.Model):
    class Source(models.TextChoices):
        RUN = "run", "A run's memory step"
        PAGE = "page", "The My memory page"
        IMPORT = "import", "Imported from a memory file"
        ADMIN = "admin", "Django admin"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memory_entries")
    content = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    # Imported entries keep the timestamp of their file, so this is not auto_now_add.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=Source.choices)
    source_run = models.ForeignKey(
        "approvals.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="memory_entries"
    )
    source_step = models.PositiveIntegerField(null=True, blank=True, help_text="Order of the plan step that saved it.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Soft delete: a deleted entry is never retrieved but stays for audit.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Unit-length float32 sentence embedding of content, computed when it was saved;
    # empty when the model package was absent (retrieval is then full text only).
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=100, blank=True, editable=False)

    objects = MemoryEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "memory entries"
        indexes = [models.Index(fields=["owner", "created_at"], name="memory_owner_created")]
        constraints = [
            # A resumed graph node saves its step's note once.
            models.UniqueConstraint(
                fields=["source_run", "source_step"],
                condition=models.Q(source_run__isnull=False),
                name="one_entry_per_run_step",
            )
        ]

    def __str__(self):
        return f"{self.owner}: {self.content[:60]}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None
