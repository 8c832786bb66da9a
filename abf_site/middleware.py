"""A database that is briefly unavailable gets a clear answer, not a crash
page: 503 with Retry-After, saying nothing was saved."""
import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)

MESSAGE = "The database is unavailable for a moment, so nothing was saved. Please try again in a few seconds."


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)) or not _connection_lost(exception):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": MESSAGE}, status=503)
        else:
            response = HttpResponse(
                f"<!doctype html><title>Database unavailable</title><h1>Database unavailable</h1><p>{MESSAGE}</p>",
                status=503,
            )
        response["Retry-After"] = "5"
        return response


def _connection_lost(exception):
    """A lost or refused connection, as opposed to a query error (a bug, which
    must stay a 500 and be fixed). SQLite's 'database is locked' counts:
    the writer holding it will finish."""
    if isinstance(exception, InterfaceError):
        return True
    text = str(exception).lower()
    return any(
        marker in text
        for marker in ("connection", "could not connect", "server closed", "terminating", "database is locked",
                       "the database system is", "shutting down")
    )
