"""What Alibaba Cloud's SMS API wants numbers, dates and template variables to look like.

Apart from ``monitor.notify.sms.aliyun`` so that the console's hooks, ``check-config`` and the
sandbox use these rules without importing the provider's SDK (see ``monitor.notify.channels``).
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone

#: The longest value one template variable may carry (Alibaba Cloud's default for a variable)
VARIABLE_LIMIT = 35
#: What an empty value is sent as: a variable may not be empty
EMPTY_VALUE = "-"
#: The provider's dates (QuerySendDetails' SendDate, SmsUp's send_time) are Beijing time
PROVIDER_ZONE = timezone(timedelta(hours=8))
MAINLAND = "+86"
#: mainland mobile numbers: 11 digits starting with 1, sent without the country code
_MAINLAND_MOBILE = re.compile(r"1\d{10}")


def provider_number(e164: str) -> str:
    """The number as SendSms wants it: a mainland number without +86, any other with its country
    code and no "+"."""
    digits = e164.removeprefix("+")
    if e164.startswith(MAINLAND) and _MAINLAND_MOBILE.fullmatch(digits[2:]):
        return digits[2:]
    return digits


def e164_number(provider_form: str) -> str:
    """A number as the provider pushes it (``13900000001``, ``8613900000001``) in E.164."""
    digits = provider_form.strip().removeprefix("+").removeprefix("00")
    if _MAINLAND_MOBILE.fullmatch(digits):
        return MAINLAND + digits
    return "+" + digits


def fitted(value: str) -> str:
    """A parameter's value as a variable may carry it: never empty, at most ``VARIABLE_LIMIT``."""
    if not value:
        return EMPTY_VALUE
    return value if len(value) <= VARIABLE_LIMIT else value[: VARIABLE_LIMIT - 1] + "…"
