"""Whether ``[sms.aliyun.templates]`` covers every message callwatch sends, with variables callwatch
fills (``callwatch check-config`` and ``callwatch run`` refuse a config where it does not)."""

from __future__ import annotations

from pathlib import Path

from monitor.config.settings import AliyunSettings, Settings
from monitor.core.errors import ConfigError
from monitor.notify.texts import SMS_TEMPLATES


def template_problems(path: Path, aliyun: AliyunSettings) -> list[str]:
    """One sentence per message without a template, and per variable callwatch does not fill."""
    problems = [
        f"{path}: [sms.aliyun.templates] has no template for {purpose!r}; add "
        f'{purpose} = {{ code = "SMS_...", params = [{_quoted(params)}] }} '
        "with the code of the template approved for it."
        for purpose, params in SMS_TEMPLATES.items()
        if purpose not in aliyun.templates
    ]
    for purpose, template in aliyun.templates.items():
        if purpose not in SMS_TEMPLATES:
            problems.append(
                f"{path}: [sms.aliyun.templates] {purpose} is not a message callwatch sends; "
                f"remove it or fix its name (one of {', '.join(SMS_TEMPLATES)})."
            )
            continue
        for param in template.params:
            if param not in SMS_TEMPLATES[purpose]:
                problems.append(
                    f"{path}: [sms.aliyun.templates] {purpose} params has {param!r}, which callwatch does not "
                    f"fill for {purpose}; use only {', '.join(SMS_TEMPLATES[purpose]) or 'no parameters'}."
                )
    return problems


def require_templates(path: Path, settings: Settings) -> None:
    """``ConfigError`` when Alibaba Cloud is a provider and a message has no (usable) template."""
    if "aliyun" not in settings.sms.provider_order or settings.sms.aliyun is None:
        return
    problems = template_problems(path, settings.sms.aliyun)
    if problems:
        raise ConfigError("\n".join(problems))


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in names)
