"""The sandbox's fixed credentials and its runtime settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

#: The account the sandbox accepts when none is configured ("AC" + 32 hex digits, like Twilio's).
DEFAULT_ACCOUNT_SID = "AC" + "0" * 30 + "5a"
#: The auth token the sandbox accepts and signs webhooks with when none is configured.
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - a published test credential, not a secret
#: The sandbox's own "Twilio number": the sender of messages created with a Messaging Service.
DEFAULT_FROM_NUMBER = "+15005550006"
#: Pause between two status changes of a message (queued -> sent -> delivered).
DEFAULT_STATUS_STEP_DELAY_S = 0.05
#: How long a webhook (status callback or inbound SMS) may take before it counts as failed.
DEFAULT_WEBHOOK_TIMEOUT_S = 15.0
#: The AccessKey pair the sandbox's Alibaba Cloud SMS API accepts when none is configured.
DEFAULT_ALIYUN_ACCESS_KEY_ID = "LTAI5tSandboxKey0000"
DEFAULT_ALIYUN_ACCESS_KEY_SECRET = "sandbox-access-key-secret"  # noqa: S105 - a published test credential


@dataclass(slots=True)
class SandboxSettings:
    """What the sandbox needs to play Twilio; the webhook fields can change while it runs."""

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    from_number: str = DEFAULT_FROM_NUMBER
    #: where phones' replies are POSTed (the monitor's ``POST /twilio/sms``); None = nowhere yet
    inbound_url: str | None = None
    #: the URL Twilio would sign replies with (the monitor's public URL); None = ``inbound_url``
    signing_url: str | None = None
    status_step_delay: float = DEFAULT_STATUS_STEP_DELAY_S
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT_S
    aliyun_access_key_id: str = DEFAULT_ALIYUN_ACCESS_KEY_ID
    aliyun_access_key_secret: str = DEFAULT_ALIYUN_ACCESS_KEY_SECRET
    #: where replies to Alibaba Cloud messages are pushed as SmsUp (the monitor's
    #: ``/aliyun/sms-up/<token>``); None = nowhere yet
    sms_up_url: str | None = None
    #: where delivery reports of Alibaba Cloud messages are pushed as SmsReport (the monitor's
    #: ``/aliyun/sms-report/<token>``); None = not pushed
    sms_report_url: str | None = None
    #: Alibaba Cloud templates approved for the account, by code: their text. Empty = any
    #: well-formed code, its message shown as the code and its parameters.
    aliyun_templates: dict[str, str] = field(default_factory=dict)

    @property
    def inbound_signing_url(self) -> str | None:
        return self.signing_url or self.inbound_url

    def callback_delivery_url(self, public_url: str) -> str:
        """Where to POST a callback whose URL (as the monitor gave it) is ``public_url``.

        Behind a proxy the monitor hands out public URLs the sandbox cannot reach. When a
        signing URL is configured, the part that the signing and inbound URLs do not share
        (e.g. ``https://callwatch.example.org`` vs ``http://127.0.0.1:8080``) is swapped.
        The signature is always computed over ``public_url``, as Twilio would.
        """
        if self.signing_url is None or self.inbound_url is None:
            return public_url
        public_base, local_base = _distinct_bases(self.signing_url, self.inbound_url)
        rest = public_url.removeprefix(public_base)
        if rest == public_url or (rest and rest[0] not in "/?"):
            return public_url
        return local_base + rest


def _distinct_bases(public_url: str, local_url: str) -> tuple[str, str]:
    """The two URLs with the path segments they end on in common cut off."""
    public, local = urlsplit(public_url), urlsplit(local_url)
    public_path, local_path = public.path.split("/"), local.path.split("/")
    shared = 0
    while shared < min(len(public_path), len(local_path)) - 1 and public_path[-1 - shared] == local_path[-1 - shared]:
        shared += 1
    keep_public = "/".join(public_path[: len(public_path) - shared])
    keep_local = "/".join(local_path[: len(local_path) - shared])
    return (
        urlunsplit((public.scheme, public.netloc, keep_public, "", "")),
        urlunsplit((local.scheme, local.netloc, keep_local, "", "")),
    )
