"""Out of the box, abf is on the safe side: plans in planning mode and code
that may write to EPICS need approval, and EPICS writes are switched off."""
from django.db import migrations


def create_default_policy(apps, schema_editor):
    ApprovalPolicy = apps.get_model("approvals", "ApprovalPolicy")
    if not ApprovalPolicy.objects.exists():
        ApprovalPolicy.objects.create(
            name="default",
            is_active=True,
            global_mode="selective",
            python_mode="epics_writes",
            planning_approval=True,
            memory_approval=True,
            writes_enabled=False,
        )


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]
    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
