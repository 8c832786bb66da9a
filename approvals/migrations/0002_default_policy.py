from django.db import migrations

from approvals.defaults import DEFAULT_POLICY


def create_default_policy(apps, schema_editor):
    ApprovalPolicy = apps.get_model("approvals", "ApprovalPolicy")
    if not ApprovalPolicy.objects.exists():
        ApprovalPolicy.objects.create(**DEFAULT_POLICY)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]
    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
