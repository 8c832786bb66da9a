"""Admin pages for the execution limits, PV limits and write records."""
import pytest
from django.utils import timezone

from execution.models import EpicsWrite, ExecutionLimits, ExecutionRecord, PvLimit
from tests.factories import make_step

pytestmark = pytest.mark.django_db


def test_execution_limits_page_shows_the_executor_and_safe_defaults(admin_client, settings):
    limits = ExecutionLimits.current()
    page = admin_client.get(f"/admin/execution/executionlimits/{limits.pk}/change/")
    assert page.status_code == 200
    assert settings.ABF_EXECUTOR in page.content.decode()
    assert (limits.wall_time_seconds, limits.memory_mb, limits.max_processes) == (60, 1024, 64)


def test_the_limits_page_says_which_deployment_the_kernels_join(admin_client, settings):
    settings.ABF_EXECUTOR, settings.ABF_EXECUTOR_DEPLOYMENT = "container", "production"
    page = admin_client.get(f"/admin/execution/executionlimits/{ExecutionLimits.current().pk}/change/").content.decode()
    assert "kernels join the executor-read / executor-write services of deployment &#x27;production&#x27;" in page


def test_there_is_only_ever_one_limits_row():
    ExecutionLimits.current()
    ExecutionLimits(wall_time_seconds=5).save()
    assert ExecutionLimits.objects.count() == 1 and ExecutionLimits.current().wall_time_seconds == 5


def test_pv_limits_and_write_records_are_listed(admin_client, operator):
    PvLimit.objects.create(pv="SR:MAG:Q1:SETPT", writable=True, min_value=0, max_value=50)
    record = ExecutionRecord.objects.create(step=make_step(operator, "print(1)"), code="print(1)")
    EpicsWrite.objects.create(execution=record, pv="SR:MAG:Q1:SETPT", requested=80, outcome="refused", at=timezone.now())
    assert "SR:MAG:Q1:SETPT" in admin_client.get("/admin/execution/pvlimit/").content.decode()
    assert "Refused" in admin_client.get("/admin/execution/epicswrite/").content.decode()
    assert "SR:MAG:Q1:SETPT" in admin_client.get(f"/admin/execution/executionrecord/{record.pk}/change/").content.decode()
