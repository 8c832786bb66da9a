"""System checks for the executor settings (run by `manage.py check`, which
is also the deployed worker's health check)."""
import os

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_exchange_folder(app_configs, **kwargs):
    folder = settings.ABF_EXECUTOR_EXCHANGE_DIR
    if not folder or (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        return []
    return [Error(
        f"ABF_EXECUTOR_EXCHANGE_DIR {folder} is not a folder this process may write: kernels cannot start.",
        hint=f"Create it, at the same path on the Docker host: install -d -m 1777 {folder}",
        id="execution.E001",
    )]
