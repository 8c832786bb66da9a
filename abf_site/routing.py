"""WebSocket routes (reviewer and run pages subscribe here)."""
websocket_urlpatterns = []
