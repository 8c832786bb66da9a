"""abf in its production configuration, for real: PostgreSQL (the Postgres
checkpointer), Redis (channel layer and django-q broker), two web processes
and three worker processes, all on loopback. Run by `python -m
tests.production`, which starts the servers."""
import re

import pytest
import requests
from django.conf import settings

from tests.conftest import QCluster, WebServer, set_policy
from tests.production import servers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def stack():
    if servers.CURRENT is None:
        pytest.skip("the production tests run with `python -m tests.production`")
    return servers.CURRENT


@pytest.fixture(autouse=True)
def empty_redis(stack):
    """Each test starts with no queued tasks and no channel-layer leftovers."""
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


class Worker(QCluster):
    def env(self):
        return {**super().env(), "ABF_WORKERS": "1"}


class Deployment:
    def __init__(self, tmp_path):
        self.webs = [WebServer(tmp_path / f"web{i}.log") for i in range(2)]
        self.workers = [Worker(tmp_path / f"worker{i}.log") for i in range(3)]

    def start(self):
        for process in self.workers + self.webs:
            process.start()
        return self

    def stop(self):
        for process in self.webs + self.workers:
            process.stop()

    def logs(self):
        return "\n".join(p.output()[-3000:] for p in self.webs + self.workers)


@pytest.fixture
def deployment(transactional_db, stack, tmp_path, operator, reviewer, second_reviewer):
    set_policy(python_mode="all_code")
    running = Deployment(tmp_path).start()
    yield running
    running.stop()


def browser_session(server, user):
    """A logged-in requests session, as a reviewer's browser would hold."""
    session = requests.Session()
    session.get(server.url + "/accounts/login/", timeout=10)
    response = session.post(
        server.url + "/accounts/login/",
        data={"username": user.username, "password": "pw-" + user.username,
              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": server.url + "/accounts/login/"},
        timeout=10,
    )
    assert response.url.endswith("/runs/"), "login failed"
    return session


def decide_on_page(session, server, approval_id, decision="approve", comment=""):
    page = session.get(f"{server.url}/approvals/{approval_id}/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{server.url}/approvals/{approval_id}/",
        data={"csrfmiddlewaretoken": token, "decision": decision, "comment": comment},
        headers={"Referer": f"{server.url}/approvals/{approval_id}/"},
        timeout=10,
    )
