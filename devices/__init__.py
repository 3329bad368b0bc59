"""Device adapters: one module per family, each exposing ``ADAPTER``.

A new family is one new module here (plus its fixtures and tests); the registry finds it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache

from devices.base import DeviceAdapter


@cache
def registry() -> Mapping[str, DeviceAdapter]:
    """Every adapter in this package, by its directory ``protocol`` name."""
    found: dict[str, DeviceAdapter] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if adapter is not None:
            found[adapter.protocol] = adapter
    return found
