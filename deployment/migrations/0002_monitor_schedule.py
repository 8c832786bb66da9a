"""Check every deployed service's health every minute and apply its restart policy."""
from django.db import migrations

NAME = "abf: monitor deployed services"


def schedule_monitor(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=NAME, defaults={"func": "deployment.tasks.monitor_services", "schedule_type": "I", "minutes": 1, "repeats": -1}
    )


def unschedule_monitor(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("deployment", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(schedule_monitor, unschedule_monitor)]
