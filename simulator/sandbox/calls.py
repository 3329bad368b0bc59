"""Calls: the sandbox's stand-in for Twilio Voice and for the phones that ring.

``calls.create`` rings the simulated phone with that number, which does what its script says:

* ``CallScript.answers(after=5, press="1")``: answers after 5 s, fetches the call's TwiML
  (signed, as Twilio does), "hears" it (the text is kept and shown on the phone's page) and
  presses the keys one per ``<Gather>`` ("91": 9 to hear it again, then 1); no keys left, it
  listens to the end;
* ``CallScript.never_answers(ring=1)``: rings (at most the call's ring timeout), then no-answer;
* ``CallScript.voicemail()``: a machine answers (``AnsweredBy=machine_start`` when the call
  asked for machine detection), and hears whatever the TwiML says to a machine;
* ``CallScript.busy()``: busy at once;
* ``CallScript.by_hand(after=1)``: answers, and waits at each ``<Gather>`` for a person to press
  a key on the sandbox's page (``GET /``) or through ``POST /sandbox/calls/{sid}/keys``.

A phone without a script rings and is not answered. Progress goes to the call's status
callback for the events it asked for (signed); busy, no-answer and the rest end with
``completed`` events as Twilio's do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from xml.etree import ElementTree

from simulator.sandbox.journal import Journal
from simulator.sandbox.records import PlacedCall, WebhookKind
from simulator.sandbox.resources import API_VERSION
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.sids import new_sid
from simulator.sandbox.tasks import BackgroundTasks
from simulator.sandbox.webhooks import WebhookSender

logger = logging.getLogger(__name__)


class Pickup(StrEnum):
    PERSON = "person"
    NOBODY = "nobody"
    MACHINE = "machine"
    BUSY = "busy"
    #: answered, keys pressed by a person on the page
    HAND = "hand"


@dataclass(frozen=True, slots=True)
class CallScript:
    """What a phone does when it rings."""

    pickup: Pickup
    #: seconds until it is answered, or (nobody) until it stops ringing
    after: float = 0.0
    #: keys pressed, one per gathering of a key
    keys: str = ""

    def __post_init__(self) -> None:
        if self.after < 0:
            raise ValueError("a call script's delay cannot be negative")
        if any(key not in "0123456789*#" for key in self.keys):
            raise ValueError(f"keys are digits, * and # (got {self.keys!r})")

    @classmethod
    def answers(cls, *, after: float = 0.0, press: str = "") -> CallScript:
        return cls(Pickup.PERSON, after, press)

    @classmethod
    def never_answers(cls, *, ring: float = 1.0) -> CallScript:
        return cls(Pickup.NOBODY, ring)

    @classmethod
    def voicemail(cls, *, after: float = 0.0) -> CallScript:
        return cls(Pickup.MACHINE, after)

    @classmethod
    def busy(cls) -> CallScript:
        return cls(Pickup.BUSY)

    @classmethod
    def by_hand(cls, *, after: float = 1.0) -> CallScript:
        return cls(Pickup.HAND, after)

    def describe(self) -> str:
        if self.pickup is Pickup.PERSON:
            keys = f", presses {' then '.join(self.keys)}" if self.keys else ", presses nothing"
            return f"answers after {self.after:g} s{keys}"
        if self.pickup is Pickup.NOBODY:
            return f"rings {self.after:g} s, nobody answers"
        if self.pickup is Pickup.HAND:
            return f"answers after {self.after:g} s, keys pressed on this page"
        return "voicemail answers" if self.pickup is Pickup.MACHINE else "busy"

    def to_json(self) -> dict[str, object]:
        return {"pickup": self.pickup.value, "after": self.after, "keys": self.keys}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CallScript:
        """``{"pickup": "person", "after": 5, "keys": "1"}``; ValueError when malformed."""
        try:
            pickup = Pickup(str(data.get("pickup", "")))
        except ValueError:
            raise ValueError(f"'pickup' is one of {', '.join(p.value for p in Pickup)}") from None
        after, keys = data.get("after", 0.0), data.get("keys", "")
        if not isinstance(after, int | float) or isinstance(after, bool) or not isinstance(keys, str):
            raise ValueError("'after' is a number of seconds and 'keys' a string of digits")
        return cls(pickup, float(after), keys)


DEFAULT_SCRIPT = CallScript.never_answers()
#: how long a call answered by hand waits for a key on the page at each <Gather>
HAND_WAIT_S = 60.0
#: the statuses a call ends in
ENDED: frozenset[str] = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True, slots=True)
class _Gather:
    action: str
    says: tuple[str, ...]


def read_twiml(text: str) -> list[str | _Gather | None]:
    """The verbs the sandbox acts on: a said text, a gathering of a key, or None for a hang-up."""
    root = ElementTree.fromstring(text)  # noqa: S314 - TwiML from the monitor under test
    verbs: list[str | _Gather | None] = []
    for verb in root:
        if verb.tag == "Say":
            verbs.append(verb.text or "")
        elif verb.tag == "Gather":
            says = tuple(inner.text or "" for inner in verb if inner.tag == "Say")
            verbs.append(_Gather(verb.get("action", ""), says))
        elif verb.tag == "Hangup":
            verbs.append(None)
    return verbs


class CallScripts:
    """Each number's call script (``DEFAULT_SCRIPT`` for the rest)."""

    def __init__(self) -> None:
        self._scripts: dict[str, CallScript] = {}

    def set(self, number: str, script: CallScript) -> None:
        self._scripts[number] = script

    def for_number(self, number: str) -> CallScript:
        return self._scripts.get(number, DEFAULT_SCRIPT)

    def by_number(self) -> dict[str, CallScript]:
        return dict(self._scripts)

    def clear(self) -> None:
        self._scripts.clear()


class CallExchange:
    """The simulated phone network for calls: rings phones and tells the monitor, signed."""

    def __init__(self, settings: SandboxSettings, webhooks: WebhookSender, tasks: BackgroundTasks) -> None:
        self._settings = settings
        self._webhooks = webhooks
        self._tasks = tasks
        self.scripts = CallScripts()
        self.calls: Journal[PlacedCall] = Journal()
        self._by_sid: dict[str, PlacedCall] = {}
        #: calls answered by hand that wait for a key now: sid -> where the key goes
        self._waiting: dict[str, asyncio.Queue[str]] = {}

    def get(self, sid: str) -> PlacedCall | None:
        return self._by_sid.get(sid)

    def listing(self, *, to: str | None = None) -> list[PlacedCall]:
        """Calls to ``to`` (all without it), newest first as Twilio lists them."""
        return [call for call in reversed(list(self.calls)) if to is None or call.to == to]

    def waiting_for_key(self, sid: str) -> bool:
        return sid in self._waiting

    def press(self, sid: str, key: str) -> bool:
        """A person pressed ``key`` on call ``sid``; False when that call waits for no key."""
        waiting = self._waiting.get(sid)
        if waiting is None or len(key) != 1 or key not in "0123456789*#":
            return False
        waiting.put_nowait(key)
        return True

    def clear(self) -> None:
        self.scripts.clear()
        self.calls.clear()
        self._by_sid.clear()

    def create(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str | None,
        events: Sequence[str],
        timeout_s: int,
        machine_detection: bool,
        arrived_monotonic: float,
        arrived_wall: float,
    ) -> PlacedCall:
        call = PlacedCall(
            sid=new_sid("CA"),
            account_sid=self._settings.account_sid,
            to=to,
            from_=from_,
            url=url,
            status_callback=status_callback,
            events=tuple(events) or ("completed",),
            timeout_s=timeout_s,
            machine_detection=machine_detection,
            arrived_monotonic=arrived_monotonic,
            arrived_wall=arrived_wall,
        )
        self._by_sid[call.sid] = call
        self.calls.append(call)
        self._tasks.spawn(self._ring(call, self.scripts.for_number(to)), name=f"call {call.sid}")
        return call

    async def _ring(self, call: PlacedCall, script: CallScript) -> None:
        await self._move(call, "initiated", event="initiated")
        if script.pickup is Pickup.BUSY:
            await self._move(call, "busy", event="completed")
            return
        await self._move(call, "ringing", event="ringing")
        if script.pickup is Pickup.NOBODY or script.after >= call.timeout_s:
            await asyncio.sleep(min(script.after, call.timeout_s))
            await self._move(call, "no-answer", event="completed")
            return
        await asyncio.sleep(script.after)
        call.started_wall = time.time()
        if call.machine_detection:
            call.answered_by = "machine_start" if script.pickup is Pickup.MACHINE else "human"
        await self._move(call, "in-progress", event="answered")
        await self._converse(call, list(script.keys), by_hand=script.pickup is Pickup.HAND)
        call.ended_wall = time.time()
        await self._move(call, "completed", event="completed")

    async def _converse(self, call: PlacedCall, keys: list[str], *, by_hand: bool) -> None:
        """Fetch the TwiML, hear it, press a key where one is gathered (the script's, or a person's
        on the page); until a hang-up or the end."""
        twiml = await self._fetch(call, call.url, {})
        while twiml is not None:
            pressed: tuple[str, str] | None = None
            try:
                verbs = read_twiml(twiml)
            except ElementTree.ParseError as exc:
                logger.warning("call %s: the TwiML is not XML (%s): hung up", call.sid, exc)
                return
            for verb in verbs:
                if verb is None:
                    return
                if isinstance(verb, str):
                    call.heard.append(verb)
                    continue
                call.heard.extend(verb.says)
                key = keys.pop(0) if keys else await self._key_by_hand(call) if by_hand else None
                if key is not None:
                    pressed = (verb.action, key)
                    break
            if pressed is None:
                return
            action, key = pressed
            call.keys.append(key)
            self.calls.touch()
            twiml = await self._fetch(call, action, {"Digits": key, "FinishedOnKey": ""})

    async def _key_by_hand(self, call: PlacedCall) -> str | None:
        waiting: asyncio.Queue[str] = asyncio.Queue()
        self._waiting[call.sid] = waiting
        self.calls.touch()
        try:
            async with asyncio.timeout(HAND_WAIT_S):
                return await waiting.get()
        except TimeoutError:
            return None
        finally:
            del self._waiting[call.sid]

    async def _fetch(self, call: PlacedCall, url: str, extra: Mapping[str, str]) -> str | None:
        """POST to one of the monitor's call URLs, signed; its TwiML, or None when it gave none."""
        params = {**self._call_params(call), **extra}
        delivery, body = await self._webhooks.post_for_text(
            WebhookKind.CALL_TWIML,
            url=self._settings.callback_delivery_url(url),
            signed_url=url,
            params=params,
            message_sid=call.sid,
        )
        call.answers.append(delivery.answered_status)
        self.calls.touch()
        if delivery.answered_status != 200 or body is None:
            logger.warning("call %s: %s answered %s", call.sid, url, delivery.answered_status or delivery.error)
            return None
        return body

    async def _move(self, call: PlacedCall, status: str, *, event: str) -> None:
        call.status = status
        if status in ENDED:
            call.ended_wall = call.ended_wall or time.time()
        self.calls.touch()
        if call.status_callback is None or event not in call.events:
            return
        params = {
            **self._call_params(call),
            "CallbackSource": "call-progress-events",
            "Timestamp": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        }
        if status == "completed":
            params["CallDuration"] = str(call.duration_s)
        await self._webhooks.post(
            WebhookKind.CALL_STATUS,
            url=self._settings.callback_delivery_url(call.status_callback),
            signed_url=call.status_callback,
            params=params,
            message_sid=call.sid,
        )

    def _call_params(self, call: PlacedCall) -> dict[str, str]:
        params = {
            "CallSid": call.sid,
            "AccountSid": call.account_sid,
            "From": call.from_,
            "To": call.to,
            "CallStatus": call.status,
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        }
        if call.answered_by is not None:
            params["AnsweredBy"] = call.answered_by
        return params
