"""The service config: a TOML file validated with pydantic, overridden by environment.

``CALLWATCH_<SECTION>__<KEY>`` overrides ``[section] key`` (nested sections add more
``__`` levels: ``CALLWATCH_SMS__TWILIO__AUTH_TOKEN``). Every mistake becomes a
``ConfigError`` with one sentence per problem naming the file and the key.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.core.errors import ConfigError

ENV_PREFIX = "CALLWATCH_"
#: The sandbox's fixed credentials (simulator.sandbox uses the same defaults).
SANDBOX_ACCOUNT_SID = "AC0000000000000000000000000000005a"
SANDBOX_AUTH_TOKEN = "sandbox-auth-token"  # noqa: S105 - a well-known test credential
SANDBOX_FROM_NUMBER = "+15005550006"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttSettings(Section):
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = Field(default="callwatch-monitor", min_length=1, max_length=128)
    shared_group: str = ""
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    ca_file: str | None = None
    reconnect_max_s: float = Field(default=30.0, gt=0)
    #: Several monitors: a monitor that dies is replaced within this many seconds. Its broker
    #: session is drained by a survivor, its claimed notifications settled, its share of the
    #: send rate taken back (monitor.ingest.failover).
    failover_s: float = Field(default=10.0, ge=2, le=600)

    @property
    def gone_after_s(self) -> float:
        """A monitor that has not noted itself alive for this long is taken for dead: half the
        bound, so that draining its session fits in the other half."""
        return self.failover_s / 2

    @property
    def alive_every_s(self) -> float:
        """How often a monitor notes that it is alive: five times within ``gone_after_s``, so
        one slow pass never makes it look dead."""
        return self.gone_after_s / 5

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:1883 or mqtts://user:pass@host:8883")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValueError("has a port that is not a number") from exc
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def username(self) -> str | None:
        user = urlsplit(self.url).username
        return unquote(user) if user else None

    @property
    def password(self) -> str | None:
        password = urlsplit(self.url).password
        return unquote(password) if password else None


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///callwatch.db"

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:/// or postgresql+asyncpg://")
        return url


class TwilioSettings(Section):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: str = Field(min_length=1, repr=False)
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base_url: str = "https://api.twilio.com"
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    #: whether SMS through it may carry the responder link ([sms] responder_links)
    links: bool = True

    @model_validator(mode="after")
    def _has_sender(self) -> TwilioSettings:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("needs from_number or messaging_service_sid")
        return self


class SandboxSettings(Section):
    account_sid: str = SANDBOX_ACCOUNT_SID
    auth_token: str = Field(default=SANDBOX_AUTH_TOKEN, repr=False)
    from_number: str = SANDBOX_FROM_NUMBER
    api_base_url: str = "http://127.0.0.1:8025"
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    links: bool = True

    def as_twilio(self) -> TwilioSettings:
        return TwilioSettings(
            account_sid=self.account_sid,
            auth_token=self.auth_token,
            from_number=self.from_number,
            api_base_url=self.api_base_url,
            timeout_s=self.timeout_s,
            links=self.links,
        )


class AliyunTemplate(Section):
    """One approved template: its code, and which of callwatch's parameters its variables are."""

    code: str = Field(pattern=r"^SMS_[0-9A-Za-z_]+$")
    #: the variable names of the approved template (``${resident}``), each one callwatch fills
    params: list[str] = Field(default_factory=list)


class AliyunSettings(Section):
    """Alibaba Cloud SMS (阿里云短信服务): a sign name, an AccessKey pair, and an approved template
    for every message callwatch sends (``docs/configuration.md``)."""

    sign_name: str = Field(min_length=1)
    access_key_id: str = Field(min_length=1)
    access_key_secret: str = Field(min_length=1, repr=False)
    #: the SMS API's address; the sandbox's (``http://127.0.0.1:8025``) in tests and the demo
    endpoint: str = "https://dysmsapi.aliyuncs.com"
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    #: whether SMS through it may carry the responder link: mainland Chinese networks block SMS
    #: with links unless the template was approved with one
    links: bool = False
    #: the secret part of the SmsUp push address ``[web] public_url`` + /aliyun/sms-up/<token>: the
    #: pushes carry no signature, so knowing the address is what lets a push in
    push_token: str = Field(min_length=16, repr=False)
    #: where pushes may come from (addresses or networks); empty = anywhere with the token
    push_allow: list[str] = Field(default_factory=list)
    #: by message (``ask``, ``reminder``, ``taken``...): the approved template that carries it
    templates: dict[str, AliyunTemplate] = Field(default_factory=dict)

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("must be the API's http(s) address without a path, like https://dysmsapi.aliyuncs.com")
        return endpoint.rstrip("/")

    @field_validator("push_allow")
    @classmethod
    def _networks(cls, allowed: list[str]) -> list[str]:
        for network in allowed:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an IP address or network, like 106.11.0.0/16") from None
        return allowed


class ModemSettings(Section):
    """A GSM modem with a SIM card, driven by Gammu's SMS daemon (gammu-smsd, files backend):
    no provider contract, and it keeps working without the internet (``docs/providers.md``)."""

    #: gammu-smsd's config file: callwatch reads the four spool folders from it
    smsdrc: str = "/etc/gammu-smsdrc"
    #: the country a number the modem reports without one is in (a mainland SIM: +86)
    country_code: str = Field(default="+86", pattern=r"^\+[1-9]\d{0,3}$")
    #: how often the inbox (replies) and the sent and error folders (what became of each SMS) are read
    poll_s: float = Field(default=1.0, gt=0, le=60)
    #: messages waiting in the outbox this long with none sent means gammu-smsd is not sending
    #: (stopped, no network, no credit): the modem then counts as down and refuses new messages
    stalled_after_s: float = Field(default=120.0, ge=10)
    #: mainland operators block SMS that carry a URL: the ask carries none through the modem
    links: bool = False


#: Who carries SMS: Twilio, the SMS sandbox (Twilio's API, for tests and the demo), only the log
#: ("console"), Alibaba Cloud, or a GSM modem through gammu-smsd
SmsProvider = Literal["twilio", "sandbox", "console", "aliyun", "modem"]
#: The providers that speak Twilio's API (one account: SMS, calls, their webhooks' signatures)
TWILIO_API_PROVIDERS = ("twilio", "sandbox")


class SmsSettings(Section):
    #: the one provider; ``providers`` names several, in failover order
    provider: SmsProvider = "console"
    #: SMS go out through the first of these that is up; what one could not send goes out
    #: through the next (docs/configuration.md, "Several providers")
    providers: list[SmsProvider] = Field(default_factory=list)
    twilio: TwilioSettings | None = None
    aliyun: AliyunSettings | None = None
    modem: ModemSettings = ModemSettings()
    sandbox: SandboxSettings = SandboxSettings()
    #: How long a claimed message may stay unconfirmed before another sender may look at it;
    #: also how long a request the provider did not answer may still be in flight there.
    send_lease_s: float = Field(default=30.0, ge=1)
    #: No phone gets more than this many SMS in any 15 minutes. Asks about an emergency
    #: always go (they count); anything else beyond the limit waits and goes as one digest.
    phone_limit_15min: int = Field(default=10, ge=2, le=1000)
    #: The provider's sending rate for our sender (messages per second); requests beyond it
    #: wait here, most urgent first, instead of in the provider's first-come queue.
    send_rate_per_s: float = Field(default=10.0, gt=0, le=1000)
    #: A message the provider keeps refusing for temporary reasons is retried until it is this old.
    give_up_after_s: float = Field(default=3600.0, ge=60)
    #: Each ask carries a short link to the responder page ([web] public_url + /r/...), through
    #: the providers whose ``links`` allow it; through the others the ask carries the map link,
    #: and it says everything essential without a page either way.
    responder_links: bool = True
    #: A volunteer the directory retires (``active = false``, ``callwatch import --prune``) gets one
    #: SMS saying they will not be asked again; once per volunteer, ever.
    tell_retired: bool = False

    @model_validator(mode="after")
    def _providers_configured(self) -> SmsSettings:
        if self.providers and "provider" in self.model_fields_set:
            raise ValueError('set either provider = "..." or providers = [...], not both')
        if len(set(self.providers)) != len(self.providers):
            raise ValueError("providers names a provider twice; name each once, in failover order")
        if len(self.providers) > 1 and "console" in self.providers:
            raise ValueError('"console" sends nothing: it cannot be one of several providers')
        if sum(1 for name in self.provider_order if name in TWILIO_API_PROVIDERS) > 1:
            raise ValueError('"twilio" and "sandbox" speak the same API from one account: name one of them')
        if "twilio" in self.provider_order and self.twilio is None:
            raise ValueError("needs a [sms.twilio] section with account_sid, auth_token and from_number")
        if "aliyun" in self.provider_order and self.aliyun is None:
            raise ValueError(
                "needs a [sms.aliyun] section with sign_name, access_key_id, access_key_secret, push_token "
                "and [sms.aliyun.templates]"
            )
        return self

    @property
    def provider_order(self) -> list[str]:
        """The providers in failover order: ``providers``, or the one ``provider``."""
        return list(self.providers) or [self.provider]

    @property
    def any_links(self) -> bool:
        """Whether a responder link may go out at all: ``responder_links``, and a provider carrying links."""
        sections = {"twilio": self.twilio, "sandbox": self.sandbox, "aliyun": self.aliyun, "modem": self.modem}
        return self.responder_links and any(
            (section := sections.get(name)) is None or section.links for name in self.provider_order
        )

    def gateway_settings(self) -> TwilioSettings | None:
        """The Twilio-API settings in use (the sandbox's or Twilio's), or None without either."""
        if "sandbox" in self.provider_order:
            return self.sandbox.as_twilio()
        if "twilio" in self.provider_order:
            return self.twilio
        return None


class VoiceSettings(Section):
    """Calling people (``channels = ["voice"]`` or ``call_after_s`` in a tier) through the same
    Twilio account as ``[sms]``. Twilio bills calls by the started minute: a call here is one
    spoken message of a few sentences said twice, and hangs up after the key."""

    #: whether the service calls at all; tiers naming "voice" are asked by SMS when it does not
    enabled: bool = False
    #: the caller id people see; the SMS sender's number when left out
    from_number: str | None = None
    #: calls the account may start per second (Twilio's default is 1 per second per account)
    calls_per_s: float = Field(default=1.0, gt=0, le=100)
    #: how long a call rings before it counts as not answered
    ring_timeout_s: int = Field(default=25, ge=5, le=120)
    #: answering-machine detection: a voicemail is not an answer, and is not left a message
    machine_detection: bool = True
    #: how long the person has to press a key after the message was said (each time)
    key_wait_s: int = Field(default=6, ge=2, le=30)
    #: duty staff's UNANSWERED alarm and the watchdog's alarm are a call as well as an SMS
    duty_calls: bool = False

    @field_validator("from_number")
    @classmethod
    def _international(cls, number: str | None) -> str | None:
        if number is not None and not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
            raise ValueError(f"must be an international number like +8613900000001 (got {number!r})")
        return number


class WebSettings(Section):
    listen: str = "127.0.0.1:8080"
    public_url: str = "http://127.0.0.1:8080"
    #: Bearer token for the JSON API (scripts and integrations); the API is closed without one.
    api_token: str | None = Field(default=None, min_length=16, repr=False)
    #: Map tiles for the console's alert map ({z}/{x}/{y}); empty shows coordinates and a map link only.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "© OpenStreetMap contributors"
    #: Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; from
    #: anyone else the header is ignored, so nobody can choose the address sign-in limits count.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network; give your reverse proxy's address, "
                    'for example ["127.0.0.1"] or ["10.0.0.0/24"]'
                ) from None
        return proxies

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, url: str) -> str:
        if url and (urlsplit(url).scheme not in ("http", "https") or not all(p in url for p in ("{z}", "{x}", "{y}"))):
            raise ValueError("must be an http(s) URL with {z}, {x} and {y}, or empty for no map tiles")
        return url

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str) -> str:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must be host:port, for example 127.0.0.1:8080")
        return listen

    @field_validator("public_url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("must be an absolute http(s) URL, the address Twilio posts to")
        return url.rstrip("/")

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class DirectorySettings(Section):
    file: str | None = None


class ServiceSettings(Section):
    #: Local time zone for times written in SMS.
    timezone: str = "UTC"
    #: Map link in SMS; {lat} and {lon} are replaced.
    map_url_template: str = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: A loop (ingest, escalation) that makes no progress for this long is stalled: duty staff
    #: are told and the monitor exits non-zero for its service manager to restart it; 0 = off.
    watchdog_stall_s: float = Field(default=60.0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"is not a known time zone name such as Asia/Shanghai (got {name!r})") from exc
        return name

    @field_validator("map_url_template")
    @classmethod
    def _has_placeholders(cls, template: str) -> str:
        if "{lat}" not in template or "{lon}" not in template:
            raise ValueError("must contain {lat} and {lon}")
        return template


class RetentionSettings(Section):
    """How long personal data that only serves the moment is kept (monitor.watch.retention)."""

    #: raw MQTT messages; those an alert's record points to keep their row but lose the payload
    device_messages_days: float = Field(default=30, gt=0)
    #: last known positions of devices, and the positions on alerts closed longer ago
    positions_days: float = Field(default=30, gt=0)
    #: the texts of SMS sent (and their template parameters) and of SMS received; the rows stay
    sms_texts_days: float = Field(default=90, gt=0)


class SupervisionSettings(Section):
    """When devices count as offline or low on battery, and how often staff hear of it
    (monitor.watch.rules)."""

    #: offline after this many heartbeat intervals without a message, plus a grace period
    offline_after_missed_heartbeats: int = Field(default=2, ge=1, le=20)
    #: an offline device raises nothing this long; devices of one area dropping within it are judged together
    offline_settle_s: float = Field(default=60, ge=0, le=3600)
    #: this many devices of one area offline together are one area_outage alert
    outage_min_devices: int = Field(default=5, ge=2)
    #: battery low at or below this percentage...
    battery_low_percent: int = Field(default=20, ge=1, le=99)
    #: ...and well again only at or above this one (hysteresis: no flapping)
    battery_cleared_percent: int = Field(default=30, ge=2, le=100)
    #: duty staff get device-health news in one SMS at most this often
    staff_sms_every_s: float = Field(default=900, ge=60)
    #: the area teams' daily digest, at this local time (service.timezone)
    digest_at: time = time(9, 0)

    @model_validator(mode="after")
    def _cleared_above_low(self) -> SupervisionSettings:
        if self.battery_cleared_percent <= self.battery_low_percent:
            raise ValueError(
                f"battery_cleared_percent ({self.battery_cleared_percent}) must be above battery_low_percent "
                f"({self.battery_low_percent}), or a battery at the threshold would flap"
            )
        return self


class Settings(Section):
    mqtt: MqttSettings = MqttSettings()
    database: DatabaseSettings = DatabaseSettings()
    sms: SmsSettings = SmsSettings()
    voice: VoiceSettings = VoiceSettings()
    web: WebSettings = WebSettings()
    directory: DirectorySettings = DirectorySettings()
    service: ServiceSettings = ServiceSettings()
    retention: RetentionSettings = RetentionSettings()
    supervision: SupervisionSettings = SupervisionSettings()

    @model_validator(mode="after")
    def _calls_need_a_provider(self) -> Settings:
        if self.voice.enabled and self.sms.gateway_settings() is None:
            raise ValueError(
                '[voice] enabled = true needs [sms] provider = "twilio" or "sandbox", or one of them in providers '
                "(calls go through that account)"
            )
        if self.voice.enabled and self.caller_id() is None:
            raise ValueError(
                "[voice] from_number is needed: [sms.twilio] sends through a messaging service, which places no calls"
            )
        return self

    def caller_id(self) -> str | None:
        """The number calls come from: ``[voice] from_number``, else the SMS sender's."""
        gateway = self.sms.gateway_settings()
        return self.voice.from_number or (gateway.from_number if gateway is not None else None)


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, override from the environment and validate the service config at ``path``."""
    document = read_toml(path)
    overridden = apply_env_overrides(document, os.environ if environ is None else environ)
    try:
        return Settings.model_validate(overridden)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(path, exc)) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; give the path of an existing TOML file.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; give the path of a TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}; fix the syntax there.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8.") from None


def apply_env_overrides(document: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """A copy of ``document`` with every ``CALLWATCH_A__B=value`` set at ``[a] b``."""
    merged: dict[str, Any] = {key: _deep_copy(value) for key, value in document.items()}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if any(not part for part in path):
            continue
        target = merged
        for part in path[:-1]:
            existing = target.get(part)
            if not isinstance(existing, dict):
                existing = {}
                target[part] = existing
            target = existing
        target[path[-1]] = value
    return merged


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    return value


def describe_validation_error(path: Path, error: ValidationError) -> str:
    """One sentence per problem: file, key, what is wrong and how to fix it."""
    sentences = []
    for problem in error.errors()[:10]:
        location = [str(part) for part in problem["loc"]]
        if not location:  # a rule across sections names its keys itself
            sentences.append(f"{path}: {re.sub(r'^Value error, ', '', problem['msg'])}; fix the settings.")
            continue
        key = format_key(location)
        if problem["type"] == "extra_forbidden":
            sentences.append(f"{path}: {key} is not a known setting; check its spelling or remove it.")
            continue
        if problem["type"] == "missing":
            sentences.append(f"{path}: {key} is required; add it.")
            continue
        message = re.sub(r"^Value error, ", "", problem["msg"])
        got = problem.get("input")
        shown = ""
        if not isinstance(got, dict | list) and got is not None:
            shown = f" (got {_shown_value(location, got)!r})"
        sentences.append(f"{path}: {key} {_lower_first(message)}{shown}; fix the value.")
    return "\n".join(sentences)


#: Settings whose values are secrets: an error message names them but never repeats them.
SECRET_KEYS = frozenset({"auth_token", "api_token", "password", "access_key_secret", "push_token"})


def _shown_value(location: list[str], value: object) -> object:
    """The value as an error message may repeat it: secrets hidden, passwords cut out of URLs."""
    if location and location[-1] in SECRET_KEYS:
        return "<hidden>"
    if isinstance(value, str) and "@" in value and "://" in value:
        return hide_url_password(value)
    return value


def hide_url_password(url: str) -> str:
    """``mqtts://user:secret@host`` -> ``mqtts://user:***@host`` (anything else unchanged)."""
    return re.sub(r"^([a-z0-9+.-]+://[^:/@]*):[^/]*@", r"\1:***@", url, flags=re.IGNORECASE)


def format_key(location: list[str]) -> str:
    """``['sms', 'twilio', 'auth_token']`` -> ``[sms.twilio] auth_token``."""
    location = [printable(part) for part in location]
    if len(location) == 1:
        return f"[{location[0]}]" if location[0] in Settings.model_fields else location[0]
    return f"[{'.'.join(location[:-1])}] {location[-1]}"


def printable(text: str) -> str:
    """``text`` as an error message may show it: control characters and line breaks escaped."""
    return text if text.isprintable() else repr(text)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text
