"""The console's two languages. Texts are written in English in templates and code
(``_("Open alerts")``); ``ZH`` gives the Chinese. Names of things (``kind:sos``,
``sms:delivered``) have an English label in ``EN`` too. A text missing from a table shows
in English rather than not at all; a test checks that none is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.web.i18n_tables import EN, ZH

LANGUAGES = ("zh", "en")
#: Prefixes of names of things; an unknown name shows as its plain value ("event:sms_failed" -> "sms failed").
NAME_PREFIXES = ("kind", "state", "outcome", "sms", "role", "device", "source", "event", "done", "duty", "monitor")


def translator(language: str) -> Callable[..., str]:
    table = ZH if language == "zh" else {}

    def translate(text: str, **values: Any) -> str:
        chosen = table.get(text) or EN.get(text) or _plain_name(text)
        return chosen.format(**values) if values else chosen

    return translate


def _plain_name(text: str) -> str:
    prefix, colon, value = text.partition(":")
    return value.replace("_", " ") if colon and prefix in NAME_PREFIXES else text
