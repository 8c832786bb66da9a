"""The reviewer and run sockets: login, filtering, pushes."""
import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, Group

from abf_site.routing import websocket_urlpatterns
from approvals import services
from approvals.models import ApprovalPolicy, ReviewRule
from tests.conftest import make_user
from tests.factories import make_waiting_run

pytestmark = pytest.mark.django_db(transaction=True)

app = URLRouter(websocket_urlpatterns)


async def connect(path, user):
    communicator = WebsocketCommunicator(app, path)
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


def run_async(coro):
    from asgiref.sync import async_to_sync

    return async_to_sync(coro)()


def test_anonymous_sockets_are_refused():
    async def scenario():
        for path in ("/ws/approvals/", "/ws/runs/1/"):
            communicator, connected, code = await connect(path, AnonymousUser())
            assert not connected and code == 4401
            await communicator.disconnect()

    run_async(scenario)


def test_a_reviewer_gets_a_snapshot_then_live_requests_and_removals(operator, reviewer):
    async def scenario():
        ws, connected, _ = await connect("/ws/approvals/", reviewer)
        assert connected
        assert await ws.receive_json_from() == {"event": "snapshot", "pending": []}

        run, approval = await database_sync_to_async(make_waiting_run)(operator)
        message = await ws.receive_json_from(timeout=2)
        assert message["event"] == "requested" and message["approval"]["id"] == approval.pk
        assert message["approval"]["requester"] == operator.username

        await database_sync_to_async(services.decide)(approval, reviewer, approve=False, comment="no")
        removed = await ws.receive_json_from(timeout=2)
        assert removed == {"event": "removed", "id": approval.pk, "status": "rejected", "decided_by": reviewer.username}
        await ws.disconnect()

    run_async(scenario)


def test_the_socket_sends_only_what_the_reviewer_may_decide(operator, reviewer):
    ReviewRule.objects.create(policy=ApprovalPolicy.current(), kind="code", reviewer_group=Group.objects.create(name="rf-experts"))
    expert = make_user("erin", "rf-experts")

    async def scenario():
        general, _, _ = await connect("/ws/approvals/", reviewer)
        specialist, _, _ = await connect("/ws/approvals/", expert)
        requester, _, _ = await connect("/ws/approvals/", operator)
        for ws in (general, specialist, requester):
            await ws.receive_json_from()  # snapshots
        await database_sync_to_async(make_waiting_run)(operator)
        assert (await specialist.receive_json_from(timeout=2))["event"] == "requested"
        assert await general.receive_nothing(timeout=0.3)
        assert await requester.receive_nothing(timeout=0.3)
        for ws in (general, specialist, requester):
            await ws.disconnect()

    run_async(scenario)


def test_snapshot_on_reconnect_lists_what_is_pending(operator, reviewer):
    _, approval = make_waiting_run(operator)

    async def scenario():
        ws, _, _ = await connect("/ws/approvals/", reviewer)
        snapshot = await ws.receive_json_from()
        assert [a["id"] for a in snapshot["pending"]] == [approval.pk]
        await ws.disconnect()

    run_async(scenario)


def test_expiry_is_pushed(operator, reviewer):
    async def scenario():
        _, approval = await database_sync_to_async(make_waiting_run)(operator)
        ws, _, _ = await connect("/ws/approvals/", reviewer)
        await ws.receive_json_from()
        await database_sync_to_async(services.expire)(approval)
        assert (await ws.receive_json_from(timeout=2))["status"] == "expired"
        await ws.disconnect()

    run_async(scenario)


def test_run_socket_follows_the_run_for_its_owner_only(operator, reviewer):
    other = make_user("otto", services.OPERATORS_GROUP)
    run, approval = make_waiting_run(operator)

    async def scenario():
        stranger, connected, code = await connect(f"/ws/runs/{run.pk}/", other)
        assert not connected and code == 4403
        ws, connected, _ = await connect(f"/ws/runs/{run.pk}/", operator)
        assert connected
        first = await ws.receive_json_from()
        assert first["run"]["status"] == "waiting_approval"
        await database_sync_to_async(services.decide)(approval, reviewer, approve=True)
        update = await ws.receive_json_from(timeout=2)
        assert update["run"]["approvals"][0]["status"] == "approved"
        await ws.disconnect()

    run_async(scenario)
