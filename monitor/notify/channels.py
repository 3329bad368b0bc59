"""The channels a service reaches people on, made from its config (``[sms]``)."""

from __future__ import annotations

from monitor.config.settings import Settings
from monitor.notify.channel import Channel
from monitor.notify.log_channel import LogChannel
from monitor.notify.sms.twilio import TwilioSms

#: where Twilio posts delivery reports, below ``[web] public_url``
STATUS_CALLBACK_PATH = "/twilio/status"


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """Each configured channel by the name tiers use for it; SMS always (a log stand-in without a provider)."""
    twilio = settings.sms.gateway_settings()
    sms: Channel = (
        LogChannel()
        if twilio is None
        else TwilioSms(twilio, status_callback_url=settings.web.public_url + STATUS_CALLBACK_PATH)
    )
    return {sms.name: sms}
