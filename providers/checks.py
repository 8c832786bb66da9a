"""System checks for ABF_DATA_SOURCES (run by `manage.py check` and at start-up)."""
from django.conf import settings
from django.core.checks import Error, Warning, register

from providers.registry import registry


@register()
def check_data_sources_setting(app_configs, **kwargs):
    config = getattr(settings, "ABF_DATA_SOURCES", {})
    if not isinstance(config, dict):
        return [Error("ABF_DATA_SOURCES must be a dict of provider name -> options.", id="providers.E001")]
    known = registry.classes()
    problems = []
    for name, options in config.items():
        if name not in known:
            problems.append(
                Warning(
                    f"ABF_DATA_SOURCES configures {name!r}, but no installed app registers a provider of that name.",
                    hint=f"Registered providers: {', '.join(known) or 'none'}.",
                    id="providers.W001",
                )
            )
        elif not isinstance(options, dict):
            problems.append(Error(f"ABF_DATA_SOURCES[{name!r}] must be a dict of options.", id="providers.E002"))
        else:
            if not isinstance(options.get("enabled", True), bool):
                problems.append(Error(f"ABF_DATA_SOURCES[{name!r}]['enabled'] must be True or False.", id="providers.E003"))
            timeout = options.get("timeout", 1)
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                problems.append(
                    Error(f"ABF_DATA_SOURCES[{name!r}]['timeout'] must be a positive number of seconds.", id="providers.E004")
                )
    return problems
