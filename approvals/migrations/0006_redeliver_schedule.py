"""Every minute, queue again a run or a decision whose task was lost with
the broker (see services.redeliver_lost_tasks)."""
from django.db import migrations

NAME = "abf: redeliver lost tasks"


def schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={"func": "approvals.tasks.redeliver_lost_tasks", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0005_run_context")]
    operations = [migrations.RunPython(schedule, unschedule)]
