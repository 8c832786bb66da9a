"""Providers register from installed apps' data_sources.py; settings enable,
disable and configure them by name; admin lists them all."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from providers.base import DataSourceProvider
from providers.checks import check_data_sources_setting
from providers.registry import registry
from tests.providers.fakes import make_provider


def names(providers):
    return [p.name for p in providers]


def test_the_built_in_providers_are_discovered():
    assert {"epics_values", "recent_executions"} <= set(registry.classes())


def test_an_installed_app_with_data_sources_becomes_a_provider(settings, clean_registry):
    assert "sample_shift_log" not in registry.classes()
    # Installing the app re-runs every AppConfig.ready(), as start-up does.
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "tests.providers.sample_app"]
    assert "sample_shift_log" in registry.classes()
    assert "sample_shift_log" in names(registry.providers())


def test_settings_disable_enable_and_configure_by_name(settings, only_providers):
    only_providers(make_provider("on"), make_provider("off"), make_provider("opt_in", enabled_by_default=False))
    assert names(registry.providers()) == ["off", "on"]

    settings.ABF_DATA_SOURCES = {
        "off": {"enabled": False},
        "opt_in": {"enabled": True, "timeout": 0.5, "limit": 3},
    }
    assert names(registry.providers()) == ["on", "opt_in"]
    assert names(registry.providers(include_disabled=True)) == ["off", "on", "opt_in"]
    opt_in = registry.providers()[1]
    assert opt_in.timeout == 0.5 and opt_in.options == {"limit": 3}


def test_registration_refuses_mistakes(clean_registry):
    with pytest.raises(ImproperlyConfigured, match="not a DataSourceProvider subclass"):
        registry.register(object)

    class Nameless(DataSourceProvider):
        pass

    with pytest.raises(ImproperlyConfigured, match="has no name"):
        registry.register(Nameless)

    class Impostor(DataSourceProvider):
        name = "epics_values"

    with pytest.raises(ImproperlyConfigured, match="Two providers are named 'epics_values'"):
        registry.register(Impostor)


def test_system_checks_catch_bad_settings(settings):
    settings.ABF_DATA_SOURCES = {
        "epics_vlaues": {"enabled": True},
        "recent_executions": {"enabled": "no", "timeout": 0},
    }
    ids = sorted(message.id for message in check_data_sources_setting(None))
    assert ids == ["providers.E003", "providers.E004", "providers.W001"]


@pytest.mark.django_db
def test_admin_lists_every_provider_enabled_or_not(admin_client, settings):
    settings.ABF_DATA_SOURCES = {"recent_executions": {"enabled": False}}
    page = admin_client.get("/admin/providers/providerstatus/").content.decode()
    assert "epics_values" in page and "recent_executions" in page

    from providers.models import ProviderStatus

    assert ProviderStatus.objects.get(name="recent_executions").enabled is False
    assert ProviderStatus.objects.get(name="epics_values").enabled is True
