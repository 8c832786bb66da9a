"""Provider fixtures: a registry holding only the providers a test makes,
and the test IOC (with this process's EPICS clients pointed at it)."""
import pytest

from providers.registry import registry
from tests.epics_ioc import epics_ioc  # noqa: F401  (a fixture)


@pytest.fixture
def only_providers(monkeypatch):
    """Replace the registered providers with the given classes for one test."""

    def use(*classes):
        monkeypatch.setattr(registry, "_classes", {cls.name: cls for cls in classes})

    return use


@pytest.fixture
def clean_registry(monkeypatch):
    """Registrations made during the test are forgotten after it."""
    monkeypatch.setattr(registry, "_classes", dict(registry._classes))
    return registry
