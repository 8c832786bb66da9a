"""Provider fixtures: a registry holding only the providers a test makes.
(The test IOC fixture, epics_ioc, is in tests/conftest.py.)"""
import pytest

from providers.registry import registry


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
