"""The channels a service reaches people on, made from its config (``[sms]``, ``[voice]``).

Alibaba Cloud's SDK is imported only by a service that sends through it: for one that does not,
the import would add 0.14-0.22 s (median 0.18 s over six runs on the 2-core VM, timed after
``monitor.runtime.service``) to a start-up of about 1.4 s, and after a crash start-up is time an
SOS waits (``python -m bench.recovery``).
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config.settings import Settings
from monitor.notify.channel import Channel
from monitor.notify.log_channel import LogChannel
from monitor.notify.requests import SMS
from monitor.notify.sms.modem import ModemSms
from monitor.notify.sms.twilio import TwilioSms
from monitor.notify.voice.twilio_voice import TwilioVoice

#: where Twilio posts delivery reports, below ``[web] public_url``
STATUS_CALLBACK_PATH = "/twilio/status"


def configured_channels(settings: Settings) -> list[Channel]:
    """Each provider of each configured channel, a channel's in failover order: SMS always (a log
    stand-in without a provider), voice when ``[voice] enabled`` (the settings make sure it has a
    Twilio account)."""
    channels = [sms_provider(settings, name) for name in settings.sms.provider_order]
    twilio = settings.sms.gateway_settings()
    caller_id = settings.caller_id()
    if settings.voice.enabled and twilio is not None and caller_id is not None:
        channels.append(TwilioVoice(twilio, settings.voice, caller_id=caller_id, public_url=settings.web.public_url))
    return channels


def sms_provider(settings: Settings, name: str) -> Channel:
    """The SMS channel through the provider ``[sms] providers`` calls ``name``."""
    if name == "aliyun" and settings.sms.aliyun is not None:
        from monitor.notify.sms.aliyun import AliyunSms  # only here: see the module's docstring

        return AliyunSms(settings.sms.aliyun)
    if name == "modem":
        return ModemSms(settings.sms.modem)
    twilio = settings.sms.gateway_settings()
    if name in ("twilio", "sandbox") and twilio is not None:
        callback = settings.web.public_url + STATUS_CALLBACK_PATH
        return TwilioSms(twilio, status_callback_url=callback, provider=name)
    return LogChannel()


def channel_names(channels: Sequence[Channel]) -> list[str]:
    """The channels tiers may name, once each: "sms", "voice"."""
    return list(dict.fromkeys(channel.name for channel in channels))


def providers_of(channels: Sequence[Channel], name: str = SMS) -> list[Channel]:
    """The providers of the channel ``name``, in failover order."""
    return [channel for channel in channels if channel.name == name]
