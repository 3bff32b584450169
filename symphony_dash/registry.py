"""The registry of component types: the built-ins and the plugins of the entry-point group ``symphony_dash.components``.

A plugin that fails to import, reuses a type name or targets another API version does not stop the app: it is listed
in :data:`broken` with the reason, and every other component works.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from .component import API_VERSION, Component

__all__ = ["ENTRY_POINT_GROUP", "RegistryError", "broken", "component_types", "get", "load_plugins", "register"]

ENTRY_POINT_GROUP = "symphony_dash.components"
log = logging.getLogger(__name__)

_types: dict[str, type[Component]] = {}
broken: dict[str, str] = {}
"""Plugins that could not be loaded, by entry-point name, with the reason."""
_plugins_loaded = False


class RegistryError(ValueError):
    """A component class that cannot be registered; the message names it and the rule."""


def register(cls: type[Component]) -> type[Component]:
    """Add a component class to the registry (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Component)):
        raise RegistryError(f"{cls!r} is not a subclass of symphony_dash.Component")
    if not cls.type:
        raise RegistryError(f"{cls.__qualname__} has no 'type' name")
    if cls.api_version != API_VERSION:
        raise RegistryError(
            f"{cls.__qualname__} ('{cls.type}') was written for component API version {cls.api_version}; "
            f"this symphony_dash provides version {API_VERSION}"
        )
    existing = _types.get(cls.type)
    if existing is not None and existing is not cls:
        raise RegistryError(
            f"component type '{cls.type}' of {cls.__module__}.{cls.__qualname__} is already registered by "
            f"{existing.__module__}.{existing.__qualname__}"
        )
    try:
        cls.Props.model_json_schema()
    except Exception as exc:
        raise RegistryError(f"the Props of '{cls.type}' cannot be written as JSON Schema: {exc}") from None
    _types[cls.type] = cls
    return cls


def get(type_name: str) -> type[Component] | None:
    """The component class registered as ``type_name``."""
    load_plugins()
    return _types.get(type_name)


def component_types() -> dict[str, type[Component]]:
    """Every registered component type, by name, built-ins first."""
    load_plugins()
    return dict(_types)


def load_plugins() -> None:
    """Import the built-ins and every installed plugin once; record the plugins that fail."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from . import components  # noqa: F401 - importing registers the built-ins

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register(ep.load())
        except Exception as exc:
            broken[ep.name] = f"{type(exc).__name__}: {exc}"
            log.error("component plugin %r (%s) was not loaded: %s", ep.name, ep.value, broken[ep.name])
