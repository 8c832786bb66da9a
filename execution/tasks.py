"""django-q tasks of the execution app."""
from execution import services


def report_interrupted():
    """Scheduled every minute: executions whose worker died are reported
    interrupted (never re-run)."""
    return services.report_interrupted()
