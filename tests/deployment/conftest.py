"""Fixtures for deployment tests: an application service folder of the
test's own (ABF_SERVICE_PATHS) and a build folder in tmp."""
import textwrap
from pathlib import Path

import pytest


class ServiceTree:
    """Writes service folders and environments under one service root."""

    def __init__(self, root):
        self.root = Path(root)

    def service(self, folder, service_yml, **templates):
        path = self.root / folder
        path.mkdir(parents=True, exist_ok=True)
        (path / "service.yml").write_text(textwrap.dedent(service_yml))
        for name, text in templates.items():
            (path / name.replace("_j2", ".j2").replace("_yml", ".yml")).write_text(textwrap.dedent(text))
        return path

    def environment(self, name, text):
        path = self.root / "environments"
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{name}.yml").write_text(textwrap.dedent(text))


@pytest.fixture
def app_services(tmp_path, settings):
    root = tmp_path / "app-services"
    root.mkdir()
    settings.ABF_SERVICE_PATHS = [str(root)]
    settings.ABF_DEPLOY_BUILD_DIR = str(tmp_path / "build")
    return ServiceTree(root)
