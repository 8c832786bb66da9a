"""django-q task: the health monitor, scheduled every minute (migration 0002)."""
from deployment import services


def monitor_services():
    return [f"{name}: {outcome}" for name, outcome in services.monitor_services()]
