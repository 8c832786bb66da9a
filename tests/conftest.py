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

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def test_checkpoints(tmp_path_factory):
    """Tests keep their LangGraph checkpoints away from the dev database."""
    path = tmp_path_factory.mktemp("checkpoints") / "checkpoints.sqlite3"
    settings.ABF_CHECKPOINT_DB = str(path)
    return path


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


@pytest.fixture
def policy(db):
    """The active policy (the default one the migration creates), editable per test."""
    return ApprovalPolicy.current()


def set_policy(**fields):
    ApprovalPolicy.objects.filter(is_active=True).update(**fields)


class QCluster:
    """A real django-q cluster (`manage.py qcluster`) on the test database."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.process = None

    def env(self):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{connection.settings_dict['NAME']}",
            ABF_CHECKPOINT_DB=settings.ABF_CHECKPOINT_DB,
            ABF_STEP_TIMEOUT=str(settings.ABF_STEP_TIMEOUT),
            ABF_WORKERS="2",
        )
        return env

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
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
