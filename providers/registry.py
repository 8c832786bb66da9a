"""Which providers exist, and which are enabled.

Like Django admin: every installed app may have a data_sources.py whose
provider classes register themselves; autodiscover() imports them all at
start-up. settings.ABF_DATA_SOURCES then enables, disables and configures
providers by name:

    ABF_DATA_SOURCES = {
        "epics_values": {"enabled": True, "timeout": 1.5, "connection_timeout": 0.5},
        "recent_executions": {"enabled": False},
    }

"enabled" and "timeout" (seconds) apply to every provider; the other keys
are the provider's own options (self.options).
"""
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

from providers.base import DataSourceProvider


class ProviderRegistry:
    def __init__(self):
        self._classes = {}

    def register(self, provider_class):
        """Add a provider class; usable as a decorator. Returns the class."""
        if not (isinstance(provider_class, type) and issubclass(provider_class, DataSourceProvider)):
            raise ImproperlyConfigured(f"{provider_class!r} is not a DataSourceProvider subclass.")
        name = provider_class.name
        if not name or not isinstance(name, str):
            raise ImproperlyConfigured(f"{_path(provider_class)} has no name: set the class attribute `name`.")
        known = self._classes.get(name)
        # The same class registered twice (a module imported again) is harmless.
        if known is not None and _path(known) != _path(provider_class):
            raise ImproperlyConfigured(
                f"Two providers are named {name!r}: {_path(known)} and {_path(provider_class)}."
            )
        self._classes[name] = provider_class
        return provider_class

    def unregister(self, name):
        self._classes.pop(name, None)

    def classes(self):
        """Every registered provider class by name, enabled or not."""
        return dict(sorted(self._classes.items()))

    def providers(self, include_disabled=False):
        """Provider instances, configured from the current settings."""
        found = []
        for name, provider_class in self.classes().items():
            config = provider_settings(name)
            if include_disabled or is_enabled(provider_class, config):
                options = {key: value for key, value in config.items() if key != "enabled"}
                found.append(provider_class(**options))
        return found


def provider_settings(name):
    config = getattr(settings, "ABF_DATA_SOURCES", {}).get(name, {})
    if not isinstance(config, dict):
        raise ImproperlyConfigured(f"ABF_DATA_SOURCES[{name!r}] must be a dict, not {type(config).__name__}.")
    return config


def is_enabled(provider_class, config=None):
    config = provider_settings(provider_class.name) if config is None else config
    return bool(config.get("enabled", provider_class.enabled_by_default))


def _path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


registry = ProviderRegistry()


def register(provider_class):
    return registry.register(provider_class)


def autodiscover():
    autodiscover_modules("data_sources")
