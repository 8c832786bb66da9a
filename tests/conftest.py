"""Shared fixtures: users in their roles, the policy, and a real django-q cluster."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection

from approvals.models import ApprovalPolicy
from approvals.services import OPERATORS_GROUP, REVIEWERS_GROUP
from tests.docker_engine import docker_engine  # noqa: F401  (the fixture)
from tests.epics_ioc import epics_ioc  # noqa: F401  (the fixture)
from tests.epics_ioc import isolate_channel_access
from tests.production.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


# epics_ioc and docker_engine are registered here only: a module that imports it registers a
# session fixture of its own, and two of them start two IOCs on the same
# ports, which then answer different clients (or two engines).


# The production tests need PostgreSQL and Redis and run in a session of
# their own: `python -m tests.production` (make test runs both).
collect_ignore = ["production"] if settings.IS_SQLITE else []


def pytest_configure(config):
    # Every EPICS client of the suite (and of the workers it starts) talks
    # Channel Access on loopback only, to the test IOC's ports.
    isolate_channel_access()


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """One test database file per pytest process, so two suites running at
    once (a developer and CI, or parallel helpers) never share one."""
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    if test_settings.get("NAME"):
        base, ext = os.path.splitext(test_settings["NAME"])
        test_settings["NAME"] = f"{base}_{os.getpid()}{ext}"


@pytest.fixture(scope="session", autouse=True)
def test_checkpoints(tmp_path_factory):
    """Tests keep their LangGraph checkpoints away from the dev database."""
    path = tmp_path_factory.mktemp("checkpoints") / "checkpoints.sqlite3"
    settings.ABF_CHECKPOINT_DB = str(path)
    return path


@pytest.fixture(autouse=True)
def channel_layer(settings):
    """A fresh relay layer per test, on its own short socket path (Unix
    socket paths are limited to ~100 characters). With REDIS_URL (the
    production tests) the Redis layer every process shares stays."""
    import tempfile

    from channels.layers import channel_layers

    if settings.REDIS_URL:
        yield None
        return
    folder = tempfile.mkdtemp(prefix="abf-")
    path = os.path.join(folder, "relay.sock")
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "abf_site.channel_layer.RelayChannelLayer", "CONFIG": {"path": path}}
    }
    channel_layers.backends.clear()
    yield path
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def default_policy(request):
    """Transactional tests flush the database, migration data included:
    put the out-of-the-box policy back for every database test."""
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    from approvals.defaults import DEFAULT_POLICY

    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    ApprovalPolicy.objects.get_or_create(name=DEFAULT_POLICY["name"], defaults=DEFAULT_POLICY)


def _is_transactional(request):
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))


def make_user(username, group=None, **extra):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, password="pw-" + username, **extra)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def operator(db):
    return make_user("olga", OPERATORS_GROUP)


@pytest.fixture
def reviewer(db):
    return make_user("rita", REVIEWERS_GROUP)


@pytest.fixture
def second_reviewer(db):
    return make_user("raj", REVIEWERS_GROUP)


def set_policy(**fields):
    ApprovalPolicy.objects.filter(is_active=True).update(**fields)


def subprocess_database_url():
    """DATABASE_URL of the test database, for the processes a test starts."""
    db = connection.settings_dict
    if settings.IS_SQLITE:
        return f"sqlite:///{db['NAME']}"
    from urllib.parse import quote

    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class QCluster:
    """A real django-q cluster (`manage.py qcluster`) on the test database."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.process = None

    def env(self):
        env = dict(os.environ)
        env.update(DATABASE_URL=subprocess_database_url(), ABF_CHECKPOINT_DB=settings.ABF_CHECKPOINT_DB, ABF_WORKERS="2")
        if not settings.REDIS_URL:
            env["ABF_CHANNEL_RELAY_SOCKET"] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["path"]
        return env

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def stop(self, sig=signal.SIGTERM):
        """SIGTERM goes to the main process only, which stops its own
        children (a group-wide SIGTERM can deadlock django-q's shutdown);
        SIGKILL takes the whole process group, like a crash."""
        if self.process and self.process.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def output(self):
        return Path(self.log_path).read_text(errors="replace")


@pytest.fixture
def q_cluster(transactional_db, tmp_path):
    cluster = QCluster(tmp_path / "qcluster.log").start()
    yield cluster
    cluster.stop()


def wait_for(predicate, timeout=60, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


class WebServer(QCluster):
    """The real ASGI server (daphne) on the test database, like production."""

    def __init__(self, log_path):
        super().__init__(log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        import urllib.request

        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "abf_site.asgi:application"],
            cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

        def healthy():
            try:
                return urllib.request.urlopen(self.url + "/healthz", timeout=1).status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=30, message="the web server to answer")
        return self


@pytest.fixture
def web_server(transactional_db, tmp_path):
    server = WebServer(tmp_path / "daphne.log").start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's event loop must not leak into DB tests."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
