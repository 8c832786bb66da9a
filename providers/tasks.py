"""django-q tasks for data sources."""
from providers import services


def check_health():
    """Scheduled: keep admin's health column current."""
    services.check_health()
