"""``X-Twilio-Signature``, computed by the twilio library itself so it matches Twilio's exactly."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def signature_for(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """HMAC-SHA1 over the URL and the sorted form parameters, base64-encoded."""
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


def forged_signature_for(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """A well-formed signature made with the wrong key: what a forged webhook would carry."""
    return signature_for(auth_token + "-but-wrong", url, params)
