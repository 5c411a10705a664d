"""Which service reacts to which event.

A service module declares ``SUBSCRIPTIONS = {topic: ("function_name", ...)}`` next to the
functions it names — or ``subscriptions(config)`` returning such a dict, when a consumer
only listens with a setting on — and every module of ``app.services`` that does is
registered here at start-up, so adding a consumer never means editing a central list.
A topic nobody listens to is stored but never dispatched (see ``events.outbox_row``).
"""
from __future__ import annotations

import importlib
import pkgutil

from app import events


def register(config) -> None:
    import app.services as services

    for module_info in sorted(pkgutil.iter_modules(services.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{services.__name__}.{module_info.name}")
        declared = (module.subscriptions(config) if hasattr(module, "subscriptions")
                    else getattr(module, "SUBSCRIPTIONS", {}))
        for topic, names in declared.items():
            for name in names:
                if not callable(getattr(module, name, None)):
                    raise RuntimeError(f"{module.__name__}.SUBSCRIPTIONS names {name!r}, "
                                       "which it does not define")
                events.subscribe(topic, f"{module.__name__}.{name}")
