"""Plain-JSON views of the sandbox's records, for the control API.

Most records are shown as they are, field by field (``fields_view``); only what the control
API must not show or reshapes is written out: the auth token and the AccessKey secret stay out
of the settings, a webhook's signature and answer time stay out of its delivery, and a message
is shown as Twilio names its parts (with what Alibaba Cloud's SendSms carried beside them).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from enum import Enum
from typing import TYPE_CHECKING

from simulator.sandbox.phones import Reaction, SimulatedPhone
from simulator.sandbox.records import CreateAttempt, OutboundMessage, WebhookDelivery
from simulator.sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def fields_view(record: DataclassInstance, *, leaving_out: Collection[str] = ()) -> dict[str, object]:
    """A dataclass record's fields by name, in their order, enums as their values."""
    view: dict[str, object] = {}
    for field in fields(record):
        if field.name not in leaving_out:
            value = getattr(record, field.name)
            view[field.name] = value.value if isinstance(value, Enum) else value
    return view


def settings_view(settings: SandboxSettings) -> dict[str, object]:
    return fields_view(settings, leaving_out={"auth_token", "aliyun_access_key_secret"})


def message_view(message: OutboundMessage) -> dict[str, object]:
    return {
        "sid": message.sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "messaging_service_sid": message.messaging_service_sid,
        "status_callback": message.status_callback,
        "status": message.status.value,
        "error_code": message.error_code,
        "num_segments": message.num_segments,
        "provider": message.provider,
        "template_code": message.template_code,
        "template_params": message.template_params,
        "sign_name": message.sign_name,
        "encoding": message.segments.encoding.value,
        "arrived_monotonic": message.arrived_monotonic,
        "arrived_wall": message.arrived_wall,
        "history": [fields_view(change, leaving_out={"at_wall"}) for change in message.history],
    }


def attempt_view(attempt: CreateAttempt) -> dict[str, object]:
    return fields_view(attempt)


def delivery_view(delivery: WebhookDelivery) -> dict[str, object]:
    return fields_view(delivery, leaving_out={"signature", "answered_monotonic"})


def reaction_view(reaction: Reaction) -> dict[str, object]:
    return fields_view(reaction)


def phone_view(phone: SimulatedPhone) -> dict[str, object]:
    return {
        "number": phone.number,
        "rules": [rule.to_json() for rule in phone.rules],
        "inbox": [message_view(message) for message in phone.inbox],
        "reactions": [reaction_view(reaction) for reaction in phone.reactions],
        "replies": [delivery_view(reply) for reply in phone.replies],
    }
