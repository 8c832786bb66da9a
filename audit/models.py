"""The audit trail: one append-only table of events, chained by hashes.

Rows are written only by audit.services.record_event and never changed or
deleted by any code path; the hash chain makes a change made behind abf's
back (SQL, a database tool) detectable by `manage.py audit verify`.
"""
import json

from django.db import models

GENESIS_HASH = "0" * 64  # the "previous hash" of event #1


class AppendOnlyError(RuntimeError):
    """Audit events are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    def touching_user(self, username):
        """Events a user did (actor) or that concern their runs or notes (subject)."""
        return self.filter(models.Q(actor_name=username) | models.Q(subject_name=username))

    def of_kind(self, kind):
        """An exact action ("approval.decided") or a family ("approval")."""
        if "." in kind:
            return self.filter(action=kind)
        return self.filter(action__startswith=kind + ".")


class AuditEvent(models.Model):
    """One thing that happened. Every column below is covered by `hash`."""

    seq = models.PositiveBigIntegerField(unique=True, help_text="Position in the chain: 1, 2, 3, ... without gaps.")
    at = models.DateTimeField(db_index=True)
    # The user is kept by id and name, not as a foreign key: deleting or
    # renaming a user must never touch (or be blocked by) the audit trail.
    actor_id = models.IntegerField(null=True, blank=True)
    actor_name = models.CharField(
        max_length=150, db_index=True, help_text="Username, or 'system' / 'cli:<os user>' for abf itself."
    )
    action = models.CharField(max_length=50, db_index=True)
    object_type = models.CharField(max_length=60, blank=True, help_text="app_label.model of the object acted on.")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # Denormalised for the report filters (and hashed like everything else).
    run_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject_name = models.CharField(
        max_length=150, blank=True, db_index=True, help_text="Whose run or note it concerns."
    )
    outcome = models.CharField(max_length=30, blank=True, db_index=True)
    pv = models.CharField("PV", max_length=200, blank=True, db_index=True)
    # Canonical JSON text, stored exactly as hashed: no database (jsonb
    # number or key normalisation) can make an honest row look tampered.
    payload_json = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["run_id", "seq"], name="audit_run_seq")]

    def __str__(self):
        return f"#{self.seq} {self.action} by {self.actor_name}"

    @property
    def payload(self):
        return json.loads(self.payload_json)

    @property
    def object_label(self):
        return f"{self.object_type} #{self.object_id}" if self.object_id else self.object_type

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")


class ChainHead(models.Model):
    """One row: the last event's number and hash. Appends lock it, so two
    writers can never both extend the same event; verify compares the last
    event with it, so deleting the newest events is detected too."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self):
        return f"chain head #{self.seq}"


class Verification(models.Model):
    """The result of one walk of the chain (`audit verify`, the admin button,
    the nightly schedule); admin shows the latest."""

    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    events_checked = models.PositiveBigIntegerField()
    broken_seq = models.PositiveBigIntegerField(null=True, blank=True, help_text="The first broken link.")
    message = models.TextField()
    head_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self):
        return f"{'OK' if self.ok else 'BROKEN'} at {self.checked_at:%Y-%m-%d %H:%M}"


class ConfigChange(AuditEvent):
    """Policy and limits history: the audit events of admin and import
    changes to approval policies, execution limits and PV write limits."""

    FAMILIES = ("policy.", "limits.")

    class Meta:
        proxy = True
        verbose_name = "policy or limits change"
        verbose_name_plural = "policy and limits history"
