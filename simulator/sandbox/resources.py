"""The JSON Twilio answers with: the Message and Call resources and the list page around them."""

from __future__ import annotations

from email.utils import format_datetime
from urllib.parse import urlencode

from simulator.sandbox.records import MessageStatus, OutboundMessage, PlacedCall, utc_from_wall

API_VERSION = "2010-04-01"


def messages_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages"


def calls_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Calls"


def _rfc2822(wall: float | None) -> str | None:
    return None if wall is None else format_datetime(utc_from_wall(wall))


def message_json(message: OutboundMessage) -> dict[str, object]:
    base = f"{messages_path(message.account_sid)}/{message.sid}"
    # Twilio reports 0 segments while a Messaging Service has not picked a sender yet.
    segments = 0 if message.status is MessageStatus.ACCEPTED else message.num_segments
    return {
        "account_sid": message.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": _rfc2822(message.arrived_wall),
        "date_sent": _rfc2822(message.sent_wall),
        "date_updated": _rfc2822(message.updated_wall),
        "direction": "outbound-api",
        "error_code": message.error_code,
        "error_message": message.error_message,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": "0",
        "num_segments": str(segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status.value,
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": message.to,
        "uri": f"{base}.json",
    }


def call_json(call: PlacedCall) -> dict[str, object]:
    return {
        "account_sid": call.account_sid,
        "answered_by": call.answered_by,
        "api_version": API_VERSION,
        "date_created": _rfc2822(call.arrived_wall),
        "date_updated": _rfc2822(call.ended_wall or call.started_wall or call.arrived_wall),
        "direction": "outbound-api",
        "duration": str(call.duration_s) if call.ended_wall is not None else None,
        "end_time": _rfc2822(call.ended_wall),
        "from": call.from_,
        "parent_call_sid": None,
        "price": None,
        "price_unit": "USD",
        "sid": call.sid,
        "start_time": _rfc2822(call.started_wall),
        "status": call.status,
        "to": call.to,
        "uri": f"{calls_path(call.account_sid)}/{call.sid}.json",
    }


def page_json(
    items: list[dict[str, object]],
    *,
    key: str,
    list_path: str,
    filters: dict[str, str],
    page: int,
    page_size: int,
    next_page_token: str | None,
) -> dict[str, object]:
    """One page of a list (``items`` under ``key``: "messages", "calls"), in Twilio's envelope;
    ``filters`` are echoed into the page URIs."""

    def page_uri(number: int, token: str | None = None) -> str:
        query = {**filters, "PageSize": str(page_size), "Page": str(number)}
        if token is not None:
            query["PageToken"] = token
        return f"{list_path}?{urlencode(query)}"

    start = page * page_size
    return {
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": page_uri(0),
        key: items,
        "next_page_uri": None if next_page_token is None else page_uri(page + 1, next_page_token),
        "page": page,
        "page_size": page_size,
        "previous_page_uri": None if page == 0 else page_uri(page - 1),
        "start": start,
        "uri": page_uri(page),
    }
