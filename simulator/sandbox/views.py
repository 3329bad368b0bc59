"""Plain-JSON views of the sandbox's records, for the control API."""

from __future__ import annotations

from simulator.sandbox.phones import Reaction, SimulatedPhone
from simulator.sandbox.records import CreateAttempt, OutboundMessage, WebhookDelivery
from simulator.sandbox.settings import SandboxSettings


def settings_view(settings: SandboxSettings) -> dict[str, object]:
    return {
        "account_sid": settings.account_sid,
        "from_number": settings.from_number,
        "inbound_url": settings.inbound_url,
        "signing_url": settings.signing_url,
        "status_step_delay": settings.status_step_delay,
        "webhook_timeout": settings.webhook_timeout,
    }


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
        "encoding": message.segments.encoding.value,
        "arrived_monotonic": message.arrived_monotonic,
        "arrived_wall": message.arrived_wall,
        "history": [
            {
                "status": change.status.value,
                "at_monotonic": change.at_monotonic,
                "error_code": change.error_code,
            }
            for change in message.history
        ],
    }


def attempt_view(attempt: CreateAttempt) -> dict[str, object]:
    return {
        "arrived_monotonic": attempt.arrived_monotonic,
        "arrived_wall": attempt.arrived_wall,
        "to": attempt.to,
        "body": attempt.body,
        "answered_status": attempt.answered_status,
        "error_code": attempt.error_code,
        "message_sid": attempt.message_sid,
    }


def delivery_view(delivery: WebhookDelivery) -> dict[str, object]:
    return {
        "kind": delivery.kind.value,
        "url": delivery.url,
        "signed_url": delivery.signed_url,
        "params": delivery.params,
        "correctly_signed": delivery.correctly_signed,
        "message_sid": delivery.message_sid,
        "sent_monotonic": delivery.sent_monotonic,
        "sent_wall": delivery.sent_wall,
        "answered_status": delivery.answered_status,
        "error": delivery.error,
    }


def reaction_view(reaction: Reaction) -> dict[str, object]:
    return {
        "message_sid": reaction.message_sid,
        "received_body": reaction.received_body,
        "reply": reaction.reply,
        "delay": reaction.delay,
        "rule_index": reaction.rule_index,
    }


def phone_view(phone: SimulatedPhone) -> dict[str, object]:
    return {
        "number": phone.number,
        "rules": [rule.to_json() for rule in phone.rules],
        "inbox": [message_view(message) for message in phone.inbox],
        "reactions": [reaction_view(reaction) for reaction in phone.reactions],
        "replies": [delivery_view(reply) for reply in phone.replies],
    }
