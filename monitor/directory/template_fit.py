"""How the directory's longest values fit Alibaba Cloud's limit for a template variable, template by
template (``callwatch check-config``): a value over it is cut when sent (``monitor.notify.sms.aliyun_forms``)."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.config.settings import AliyunSettings
from monitor.directory.model import Directory
from monitor.notify.sms.aliyun_forms import VARIABLE_LIMIT
from monitor.notify.texts import KIND_NAMES


def _longest(values: Iterable[str | None]) -> tuple[int, str] | None:
    present = [value for value in values if value]
    if not present:
        return None
    value = max(present, key=len)
    return len(value), value


def directory_longest(directory: Directory) -> dict[str, tuple[int, str] | None]:
    """The longest value each parameter taken from the directory (or a fixed list) can have."""
    volunteers = _longest(volunteer.name for volunteer in directory.volunteers)
    return {
        "resident": _longest(resident.name for resident in directory.residents),
        "address": _longest(resident.address for resident in directory.residents),
        "phone": _longest(resident.phone for resident in directory.residents),
        "area": _longest(area.name for area in directory.areas),
        "taker": volunteers,
        "holder": volunteers,
        "helper": volunteers,
        "kind": _longest(name for names in KIND_NAMES.values() for name in names.values()),
    }


def template_lines(aliyun: AliyunSettings, directory: Directory | None) -> list[str]:
    """For each template: the parameters callwatch fills, with the longest value the directory
    has for it against the limit (a value over it is cut, and says so)."""
    longest = directory_longest(directory) if directory is not None else {}
    lines = [f"templates (sign {aliyun.sign_name}; a variable carries at most {VARIABLE_LIMIT} characters):"]
    for purpose, template in aliyun.templates.items():
        shown = []
        for param in template.params:
            found = longest.get(param)
            if found is None:
                shown.append(param)
                continue
            length, value = found
            over = f" too long, cut: {value!r}" if length > VARIABLE_LIMIT else ""
            shown.append(f"{param} {length}/{VARIABLE_LIMIT}{over}")
        lines.append(f"  {purpose} {template.code}: {', '.join(shown) or 'no parameters'}")
    return lines
