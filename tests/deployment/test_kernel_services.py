"""The container executor finds its kernel containers by service name: in a
deployment (ABF_EXECUTOR_DEPLOYMENT), read-only runs join the executor-read
service's network and take its EPICS settings, approved-write runs
executor-write's; a service that is down means the code is not run."""
import os

import pytest
from django.core.management import call_command

from deployment.services import find_service
from execution import kernels
from execution.executors import Limits
from execution.runner import run_python
from tests.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

ENVIRONMENT = "t-kernels"
SMALL = Limits(wall_time_seconds=20, cpu_seconds=5, memory_mb=256, max_processes=32, output_bytes=64 * 1024, file_size_mb=8)
# Where the code runs: its network namespace and the EPICS addresses it was given.
WHERE = "import os\nresults = [os.readlink('/proc/self/ns/net'), os.environ['EPICS_CA_ADDR_LIST']]"


@pytest.fixture
def deployed_kernels(app_services, engine, settings):
    """The shipped execution group up on the suite's engine, each variant
    with its own EPICS gateway address, and the container executor using it."""
    settings.ABF_EPICS_READ_ADDR_LIST = ["127.0.0.1:5064"]
    settings.ABF_EPICS_WRITE_ADDR_LIST = ["127.0.0.1:5084"]
    app_services.environment(ENVIRONMENT, "groups: [execution]\n")
    call_command("deploy", "up", ENVIRONMENT, stdout=open(os.devnull, "w"))
    settings.ABF_EXECUTOR = "container"
    settings.ABF_EXECUTOR_DEPLOYMENT = ENVIRONMENT
    kernels.close_pool()  # no kernel pooled before these settings
    yield engine
    kernels.close_pool()
    call_command("deploy", "down", ENVIRONMENT, stdout=open(os.devnull, "w"))
    wait_for(lambda: not engine.containers.list(all=True, sparse=True), timeout=30, message="every container to go")


def network_namespace(engine, service):
    container = engine.containers.get(find_service(service, ENVIRONMENT, engine).container_id)
    return os.readlink(f"/proc/{container.attrs['State']['Pid']}/ns/net")


def test_each_run_joins_the_service_of_its_write_permission(deployed_kernels):
    engine = deployed_kernels
    read_only = run_python(WHERE, limits=SMALL)
    approved = run_python(WHERE, limits=SMALL, allow_writes=True)
    assert (read_only.status, approved.status) == ("ok", "ok"), read_only.stderr + approved.stderr
    assert read_only.results == [network_namespace(engine, "executor-read"), "127.0.0.1:5064"]
    assert approved.results == [network_namespace(engine, "executor-write"), "127.0.0.1:5084"]


def test_python_may_reach_only_the_services_epics_addresses(deployed_kernels):
    code = "import socket\nsocket.create_connection(('10.1.2.3', 80), timeout=1)"
    result = run_python(code, limits=SMALL)
    assert result.status == "error"
    assert "network access to 10.1.2.3 is not allowed" in result.stderr


def test_a_service_that_is_down_means_the_code_is_not_run(deployed_kernels):
    engine = deployed_kernels
    engine.containers.get(f"abf-{ENVIRONMENT}-executor-read").stop(timeout=1)
    result = run_python("open('/tmp/ran', 'w')\nresults = 'ran'", limits=SMALL)
    assert (result.status, result.results) == ("error", None)
    assert f"the executor-read service of deployment '{ENVIRONMENT}' is exited" in result.stderr
    assert f"deploy up executor-read --env {ENVIRONMENT}" in result.stderr
    # The other variant is its own service and still runs.
    assert run_python("results = 'ran'", limits=SMALL, allow_writes=True).results == "ran"


def test_a_restarted_service_gets_new_kernels_in_its_new_network(deployed_kernels, settings):
    engine = deployed_kernels
    assert run_python(WHERE, limits=SMALL).status == "ok"  # the pool now holds a kernel in today's network
    engine.containers.get(f"abf-{ENVIRONMENT}-executor-read").restart(timeout=1)
    after = run_python(WHERE, limits=SMALL)
    assert after.status == "ok" and after.results[0] == network_namespace(engine, "executor-read")
