"""WebSockets for the reviewer and run pages.

Each socket starts with a snapshot from the database, then receives pushes;
a reconnecting page therefore resyncs without a reload.
"""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from approvals import push

UNAUTHENTICATED = 4401
FORBIDDEN = 4403


class ApprovalsConsumer(AsyncJsonWebsocketConsumer):
    """Pending requests this reviewer may decide, live."""

    async def connect(self):
        self.user = self.scope.get("user")
        if not self.user or not self.user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        await self.channel_layer.group_add(push.APPROVALS_GROUP, self.channel_name)
        await self.channel_layer.group_add(push.user_group(self.user.pk), self.channel_name)
        await self.accept()
        await self.send_json({"event": "snapshot", "pending": await self._decidable_now()})

    async def disconnect(self, code):
        if getattr(self, "user", None) and self.user.is_authenticated:
            await self.channel_layer.group_discard(push.APPROVALS_GROUP, self.channel_name)
            await self.channel_layer.group_discard(push.user_group(self.user.pk), self.channel_name)

    async def approval_requested(self, event):
        if self.user.pk in event["eligible"]:
            await self.send_json({"event": "requested", "approval": event["approval"]})

    async def approval_updated(self, event):
        if self.user.pk in event["eligible"]:
            await self.send_json({"event": "updated", "approval": event["approval"]})
        else:
            await self.send_json({"event": "removed", "id": event["approval"]["id"], "status": "pending"})

    async def approval_removed(self, event):
        await self.send_json({"event": "removed", "id": event["id"], "status": event["status"], "decided_by": event["decided_by"]})

    async def approval_escalated(self, event):
        await self.send_json({"event": "escalated", "approval": event["approval"]})

    @database_sync_to_async
    def _decidable_now(self):
        from approvals.models import ApprovalRequest
        from approvals.services import can_decide

        pending = ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING).select_related(
            "run", "requester", "reviewer_group"
        )
        return [push.approval_summary(a) for a in pending.order_by("created_at") if can_decide(self.user, a)[0]]


class RunConsumer(AsyncJsonWebsocketConsumer):
    """One run's progress, for whoever may see that run."""

    async def connect(self):
        self.user = self.scope.get("user")
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        if not self.user or not self.user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        snapshot = await self._snapshot()
        if snapshot is None:
            await self.close(code=FORBIDDEN)
            return
        await self.channel_layer.group_add(push.run_group(self.run_id), self.channel_name)
        await self.accept()
        await self.send_json({"event": "run", "run": snapshot})

    async def disconnect(self, code):
        if hasattr(self, "run_id"):
            await self.channel_layer.group_discard(push.run_group(self.run_id), self.channel_name)

    async def run_updated(self, event):
        await self.send_json({"event": "run", "run": event["run"]})

    async def execution_output(self, event):
        """A piece of a running step's stdout or stderr, and where in the
        stream it starts. The page shows it until the step ends; then the
        stored output in the next "run" event replaces it."""
        await self.send_json({"event": "output", **{key: event[key] for key in ("execution", "stream", "text", "offset")}})

    @database_sync_to_async
    def _snapshot(self):
        from approvals.serializers import run_json
        from approvals.views import visible_runs

        run = visible_runs(self.user).filter(pk=self.run_id).first()
        return run_json(run) if run else None
