"""Expire overdue approval requests every minute (fail secure: expired = rejected)."""
from django.db import migrations


def schedule_expiry(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name="abf: expire overdue approvals",
        defaults={"func": "approvals.tasks.expire_overdue", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unschedule_expiry(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="abf: expire overdue approvals").delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0003_governance"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(schedule_expiry, unschedule_expiry)]
