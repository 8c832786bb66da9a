"""WebSocket routes: reviewer and run pages subscribe here."""
from django.urls import path

from approvals import consumers

websocket_urlpatterns = [
    path("ws/approvals/", consumers.ApprovalsConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", consumers.RunConsumer.as_asgi()),
]
