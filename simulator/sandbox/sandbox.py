"""``SmsSandbox``: the whole sandbox on a local port, as one async context manager."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from simulator.sandbox.app import build_app
from simulator.sandbox.calls import ENDED, CallScript
from simulator.sandbox.core import SandboxCore
from simulator.sandbox.faults import FaultPlan
from simulator.sandbox.outcomes import OutcomeBook
from simulator.sandbox.phones import SimulatedPhone
from simulator.sandbox.records import CreateAttempt, OutboundMessage, PlacedCall, WebhookDelivery, WebhookKind
from simulator.sandbox.server import serving
from simulator.sandbox.settings import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_ALIYUN_ACCESS_KEY_ID,
    DEFAULT_ALIYUN_ACCESS_KEY_SECRET,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM_NUMBER,
    DEFAULT_STATUS_STEP_DELAY_S,
    DEFAULT_WEBHOOK_TIMEOUT_S,
    SandboxSettings,
)
from simulator.sandbox.store import DEFAULT_WAIT_TIMEOUT_S, message_filter


class SmsSandbox:
    """A local stand-in for Twilio's Messages API plus the volunteers' phones.

    ``async with SmsSandbox() as sandbox:`` serves on 127.0.0.1 and a free port inside the
    running event loop; point the twilio client's API base URL at ``sandbox.base_url``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        from_number: str = DEFAULT_FROM_NUMBER,
        inbound_url: str | None = None,
        signing_url: str | None = None,
        status_step_delay: float = DEFAULT_STATUS_STEP_DELAY_S,
        webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT_S,
        sms_up_url: str | None = None,
    ) -> None:
        self.settings = SandboxSettings(
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=from_number,
            inbound_url=inbound_url,
            signing_url=signing_url,
            status_step_delay=status_step_delay,
            webhook_timeout=webhook_timeout,
            aliyun_access_key_id=DEFAULT_ALIYUN_ACCESS_KEY_ID,
            aliyun_access_key_secret=DEFAULT_ALIYUN_ACCESS_KEY_SECRET,
            sms_up_url=sms_up_url,
        )
        self._host, self._port = host, port
        self._core = SandboxCore(self.settings)
        self._base_url: str | None = None
        self._resources = AsyncExitStack()

    async def __aenter__(self) -> Self:
        try:
            await self._resources.enter_async_context(self._core)
            self._base_url = await self._resources.enter_async_context(
                serving(build_app(self._core), host=self._host, port=self._port)
            )
            # Left first: held requests are released before the server waits for them to end.
            self._resources.callback(self._core.stopping.set)
        except BaseException:
            await self._resources.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._resources.aclose()
        self._base_url = None

    # -- where and who -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the API base URL to use instead of https://api.twilio.com."""
        if self._base_url is None:
            raise RuntimeError("the sandbox is not running; use it inside 'async with'")
        return self._base_url

    @property
    def page_url(self) -> str:
        return self.base_url + "/"

    @property
    def account_sid(self) -> str:
        return self.settings.account_sid

    @property
    def auth_token(self) -> str:
        return self.settings.auth_token

    @property
    def from_number(self) -> str:
        return self.settings.from_number

    @property
    def aliyun_access_key_id(self) -> str:
        return self.settings.aliyun_access_key_id

    @property
    def aliyun_access_key_secret(self) -> str:
        return self.settings.aliyun_access_key_secret

    def set_aliyun_push_urls(self, sms_up_url: str | None, sms_report_url: str | None) -> None:
        """Where replies to Alibaba Cloud messages (the monitor's ``/aliyun/sms-up/<token>``) and their
        delivery reports (``/aliyun/sms-report/<token>``) are pushed."""
        self.settings.sms_up_url = sms_up_url
        self.settings.sms_report_url = sms_report_url

    def approve_aliyun_templates(self, texts: Mapping[str, str]) -> None:
        """The templates the account has approved (code: text): SendSms with another code is refused
        (``isv.SMS_TEMPLATE_ILLEGAL``), and a message shows as phones show it, its variables filled."""
        self.settings.aliyun_templates = dict(texts)

    def set_inbound_url(self, inbound_url: str | None, *, signing_url: str | None = None) -> None:
        """Where phones' replies go (the monitor's ``POST /twilio/sms``) and the URL they are signed for."""
        self.settings.inbound_url = inbound_url
        self.settings.signing_url = signing_url

    # -- scripting ---------------------------------------------------------------------

    @property
    def outcomes(self) -> OutcomeBook:
        """What happens to messages per destination: ``sandbox.outcomes.set(number, Outcome.landline())``."""
        return self._core.outcomes

    @property
    def faults(self) -> FaultPlan:
        """Trouble for the next create requests: ``sandbox.faults.fail_next(2, status=429)``."""
        return self._core.faults

    def phone(self, number: str) -> SimulatedPhone:
        """The simulated phone with this number (created on first use)."""
        return self._core.phones.phone(number)

    def script_calls(self, number: str, script: CallScript) -> None:
        """What the phone ``number`` does when called: ``CallScript.answers(after=5, press="1")``."""
        self._core.phones.phone(number)  # listed on the page from now on
        self._core.calls.scripts.set(number, script)

    def phones(self) -> list[SimulatedPhone]:
        return self._core.phones.all()

    def reset(self) -> None:
        """Forget every message, phone script, outcome, fault and webhook record."""
        self._core.reset()

    # -- observing ---------------------------------------------------------------------

    def messages(self, *, to: str | None = None) -> list[OutboundMessage]:
        """Messages created so far, oldest first."""
        return self._core.store.messages.matching(message_filter(to=to))

    def message(self, sid: str) -> OutboundMessage | None:
        return self._core.store.get(sid)

    async def wait_for_messages(
        self,
        count: int = 1,
        *,
        to: str | None = None,
        body_contains: str | None = None,
        since: float | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[OutboundMessage]:
        """Matching messages (oldest first) once at least ``count`` exist; TimeoutError otherwise.

        ``since`` is a ``time.monotonic()`` reading: only messages arriving at or after it count.
        """
        return await self._core.store.wait_for_messages(
            count, to=to, body_contains=body_contains, since=since, timeout=timeout
        )

    def calls(self, *, to: str | None = None) -> list[PlacedCall]:
        """Calls placed so far, oldest first."""
        return self._core.calls.calls.matching(lambda call: to is None or call.to == to)

    async def wait_for_calls(
        self,
        count: int = 1,
        *,
        to: str | None = None,
        ended: bool = False,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[PlacedCall]:
        """Calls (oldest first) once at least ``count`` match; ``ended``: only calls that are over."""

        def matches(call: PlacedCall) -> bool:
            return (to is None or call.to == to) and (not ended or call.status in ENDED)

        return await self._core.calls.calls.wait_for(count, matches, timeout=timeout, what="calls")

    def waiting_for_key(self, sid: str) -> bool:
        """Whether call ``sid``, answered by hand (``CallScript.by_hand``), waits for a key now."""
        return self._core.calls.waiting_for_key(sid)

    def press_key(self, sid: str, key: str) -> bool:
        """Press ``key`` on call ``sid`` answered by hand, as a person on the page would; False
        when that call waits for no key."""
        return self._core.calls.press(sid, key)

    def create_attempts(self) -> list[CreateAttempt]:
        """Every create request as it arrived, including the refused and the held ones."""
        return list(self._core.store.attempts)

    async def wait_for_create_attempts(
        self,
        count: int = 1,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[CreateAttempt]:
        """Create requests (refused and held ones too) once at least ``count`` arrived."""
        return await self._core.store.attempts.wait_for(count, timeout=timeout, what="create requests")

    def webhooks(self, *, kind: WebhookKind | None = None, message_sid: str | None = None) -> list[WebhookDelivery]:
        """Status callbacks and inbound SMS sent so far, with the monitor's answers."""
        return self._core.webhooks.deliveries.matching(_delivery_filter(kind, message_sid))

    async def wait_for_webhooks(
        self,
        count: int = 1,
        *,
        kind: WebhookKind | None = None,
        message_sid: str | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT_S,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[WebhookDelivery]:
        return await self._core.webhooks.deliveries.wait_for(
            count,
            _delivery_filter(kind, message_sid),
            timeout=timeout,
            what=f"{kind or 'webhook'} deliveries",
        )

    async def idle(self) -> None:
        """Wait until every status progression and scheduled reply so far has run its course."""
        await self._core.tasks.idle()


def _delivery_filter(kind: WebhookKind | None, message_sid: str | None) -> Callable[[WebhookDelivery], bool]:
    def accepts(delivery: WebhookDelivery) -> bool:
        return (kind is None or delivery.kind is kind) and (message_sid is None or delivery.message_sid == message_sid)

    return accepts
