"""The channels a service reaches people on, made from its config (``[sms]``, ``[voice]``).

Alibaba Cloud's SDK is imported only by a service that sends through it: for one that does not,
the import would add 0.14-0.22 s (median 0.18 s over six runs on the 2-core VM, timed after
``monitor.runtime.service``) to a start-up of about 1.4 s, and after a crash start-up is time an
SOS waits (``python -m bench.recovery``).
"""

from __future__ import annotations

from monitor.config.settings import Settings
from monitor.notify.channel import Channel
from monitor.notify.log_channel import LogChannel
from monitor.notify.sms.twilio import TwilioSms
from monitor.notify.voice.twilio_voice import TwilioVoice

#: where Twilio posts delivery reports, below ``[web] public_url``
STATUS_CALLBACK_PATH = "/twilio/status"


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """Each configured channel by the name tiers use for it; SMS always (a log stand-in without a
    provider), voice when ``[voice] enabled`` (the settings make sure it has a Twilio account)."""
    twilio = settings.sms.gateway_settings()
    sms: Channel
    if settings.sms.provider == "aliyun" and settings.sms.aliyun is not None:
        from monitor.notify.sms.aliyun import AliyunSms  # only here: see the module's docstring

        sms = AliyunSms(settings.sms.aliyun)
    elif twilio is not None:
        sms = TwilioSms(twilio, status_callback_url=settings.web.public_url + STATUS_CALLBACK_PATH)
    else:
        sms = LogChannel()
    channels: dict[str, Channel] = {sms.name: sms}
    caller_id = settings.caller_id()
    if settings.voice.enabled and twilio is not None and caller_id is not None:
        voice = TwilioVoice(twilio, settings.voice, caller_id=caller_id, public_url=settings.web.public_url)
        channels[voice.name] = voice
    return channels
