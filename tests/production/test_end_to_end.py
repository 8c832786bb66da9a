"""The production configuration end to end: an operator asks through the
API on one web process, a reviewer sees it live on the other (the push
crosses processes through Redis) and approves on the page, one of three
workers runs it from the PostgreSQL checkpoint, and it runs once."""
import asyncio
import json

import pytest
import requests

from approvals import services
from approvals.models import ApprovalRequest, Run
from execution.models import ExecutionRecord
from tests.conftest import wait_for
from tests.production.conftest import browser_session, decide_on_page

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


async def first_pushed_request(server, session, timeout=30, idle=0):
    import websockets

    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    uri = server.url.replace("http://", "ws://") + "/ws/approvals/"
    async with websockets.connect(uri, additional_headers={"Cookie": cookie, "Origin": server.url}) as socket:
        assert json.loads(await socket.recv())["event"] == "snapshot"
        await asyncio.sleep(idle)

        async def read():
            while True:
                event = json.loads(await socket.recv())
                if event["event"] == "requested":
                    return event

        return await asyncio.wait_for(read(), timeout)


def test_request_approve_run_across_processes(deployment, operator, reviewer):
    web_a, web_b = deployment.webs
    reviewer_session = browser_session(web_b, reviewer)

    async def scenario():
        listening = asyncio.ensure_future(first_pushed_request(web_b, reviewer_session))
        await asyncio.sleep(1)  # the socket is open before the request exists
        response = await asyncio.to_thread(
            requests.post, web_a.url + "/api/runs/", json={"request": 'print("beam", 6 * 7)'},
            auth=(operator.username, "pw-" + operator.username), timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json(), await listening

    created, pushed = asyncio.run(scenario())
    approval = ApprovalRequest.objects.get(run_id=created["id"])
    assert pushed["approval"]["id"] == approval.pk

    answer = decide_on_page(reviewer_session, web_b, approval.pk, comment="fine")
    assert answer.status_code in (200, 302)

    run = Run.objects.get(pk=created["id"])
    wait_for(lambda: run.refresh_from_db() or run.is_finished, timeout=60, message=f"run #{run.pk} to finish")
    assert run.status == Run.Status.FINISHED, (run.message, deployment.logs())
    record = ExecutionRecord.objects.get(step__plan__run=run)
    assert record.stdout == "beam 42\n" and record.approved_by == reviewer
    status = requests.get(f"{web_a.url}/api/runs/{run.pk}/", auth=(operator.username, "pw-" + operator.username), timeout=10)
    assert status.json()["status"] == "finished"


def test_an_idle_socket_still_gets_pushes(deployment, operator, reviewer):
    """Idle longer than redis-py's default 5 s read timeout, which would tear
    the consumer down (channels_redis#422) unless the layer disables it."""
    web = deployment.webs[0]
    session = browser_session(web, reviewer)

    async def scenario():
        listening = asyncio.ensure_future(first_pushed_request(web, session, idle=8))
        await asyncio.sleep(8.5)
        run = await asyncio.to_thread(services.submit_run, operator, 'print("late")')
        return run, await listening

    run, pushed = asyncio.run(scenario())
    assert pushed["approval"]["run_id"] == run.pk
