"""What the adapter tests share: the moment messages arrive, messages built from bodies, results
unwrapped, the sample files in tests/fixtures/devices with the devices they talk about, and
payloads made from those samples to break the adapters with. The ingest tests send the same
samples and payloads to a running monitor."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from devices.base import (
    AdapterState,
    DeviceAdapter,
    DeviceEvent,
    DeviceMessage,
    DeviceProfile,
    JsonValue,
    Parsed,
    ParseResult,
    Rejection,
)
from simulator.directory_entries import directory_file, entry

RECEIVED_AT = datetime(2026, 5, 2, 8, 16, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "devices"
WATCH_SERIAL = "868003031234567"

#: the devices the sample files talk about, as the directory describes them
FIXTURE_DEVICES: Mapping[str, tuple[DeviceProfile, ...]] = {
    "owntracks": (DeviceProfile("jane-phone", "gps_phone", "owntracks/jane/nokia"),),
    "zigbee2mqtt": (
        DeviceProfile("tuya-sos", "button", "zigbee2mqtt/0xa4c13899607febd1"),
        DeviceProfile("hall-button", "button", "zigbee2mqtt/hall_button"),
        DeviceProfile("sos-pendant", "button", "zigbee2mqtt/sos_pendant"),
        DeviceProfile("hue-dimmer", "button", "zigbee2mqtt/bedroom/hue_dimmer"),
    ),
    "tasmota": (DeviceProfile("bedside", "button", "bedside"),),
    "shelly": (DeviceProfile("button1", "button", "shellies/shellybutton1-A4CF12F45A2B"),),
    "shelly_gen2": (DeviceProfile("plus-i4", "button", "shellyplusi4-a8032ab12345"),),
    "traccar": (DeviceProfile("grandma-watch", "gps_phone", "events", serial=WATCH_SERIAL),),
}
#: the sample devices whose resident has a safe zone, by the region their own reports name
ZONE_REGIONS: Mapping[str, str] = {"jane-phone": "home", "grandma-watch": "Home"}


def listing(
    protocol: str, device: DeviceProfile, *, zone_region: str | None = None, actions: Mapping[str, str] | None = None
) -> str:
    """Directory entries for ``device``: it and a resident of its own in area a-1 ("Owner of" it),
    with a safe zone named ``zone_region`` when given."""
    owner = f"r-{device.device_id}"
    return directory_file(
        entry(
            "residents",
            id=owner,
            name=f"Owner of {device.device_id}",
            area="a-1",
            safe_zone={"region": zone_region} if zone_region else None,
        ),
        entry(
            "devices",
            id=device.device_id,
            resident=owner,
            kind=device.kind,
            protocol=protocol,
            topic=device.topic,
            serial=device.serial,
            actions=actions,
        ),
    )


def message(topic: str, body: object, *, retained: bool = False) -> DeviceMessage:
    """A message arriving at ``RECEIVED_AT``: ``body`` as it is when it is bytes, else as JSON."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return DeviceMessage(topic, payload, retained, RECEIVED_AT)


def parse_with(
    adapter: DeviceAdapter, device: DeviceProfile, topic: str, body: object, state: AdapterState | None = None
) -> ParseResult:
    """``body`` arriving on ``topic`` for ``device``, with the state kept from before (none by default)."""
    return adapter.parse(message(topic, body), device, state if state is not None else {})


def reason_of(outcome: object) -> object:
    """A rejection's reason; anything else (a located device, a Parsed) as it is."""
    return outcome.reason if isinstance(outcome, Rejection) else outcome


def refused_topic(adapter: DeviceAdapter, device: DeviceProfile, topic: str, body: object) -> tuple[object, object]:
    """Why a message on ``topic`` is refused when its device is located and when it is parsed."""
    sent = message(topic, body)
    return reason_of(adapter.locate(sent)), reason_of(adapter.parse(sent, device, {}))


def parsed(result: ParseResult) -> Parsed:
    assert isinstance(result, Parsed), result
    return result


def events(result: ParseResult) -> tuple[DeviceEvent, ...]:
    return parsed(result).events


@dataclass(frozen=True)
class SampleLine:
    """One line of a sample file: a message as the device sends it, and what it should come to."""

    number: int
    topic: str
    payload: bytes
    retain: bool
    #: the event the message should raise once presses are resolved ("none" for nothing)
    expect: str
    #: the device's action map while this line is read
    action_map: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> DeviceMessage:
        return DeviceMessage(self.topic, self.payload, self.retain, RECEIVED_AT)


def sample_lines(path: Path) -> list[SampleLine]:
    """Every line of the sample file at ``path``, numbered from 1."""
    lines = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        raw = json.loads(text)
        payload = raw["payload"].encode()
        lines.append(SampleLine(number, raw["topic"], payload, raw["retain"], raw["expect"], raw.get("action_map", {})))
    return lines


# -- payloads to break the adapters with: every family's real topics, and its samples broken --

#: per protocol: a device as the directory describes it, and every topic it publishes on
FAMILIES: Mapping[str, tuple[DeviceProfile, tuple[str, ...]]] = {
    "native": (
        DeviceProfile("btn-0001", "button", "callwatch/btn-0001"),
        ("callwatch/btn-0001/event", "callwatch/btn-0001/status"),
    ),
    "owntracks": (
        DeviceProfile("phone-01", "gps_phone", "owntracks/callwatch/phone-01"),
        ("owntracks/callwatch/phone-01", "owntracks/callwatch/phone-01/event"),
    ),
    "zigbee2mqtt": (
        DeviceProfile("hall", "button", "zigbee2mqtt/hall"),
        ("zigbee2mqtt/hall", "zigbee2mqtt/hall/availability"),
    ),
    "tasmota": (
        DeviceProfile("bedside", "button", "bedside"),
        (
            "stat/bedside/RESULT",
            "stat/bedside/BUTTON1",
            "stat/bedside/POWER",
            "tele/bedside/LWT",
            "tele/bedside/STATE",
        ),
    ),
    "shelly": (
        DeviceProfile("button1", "button", "shellies/button1"),
        ("shellies/button1/input_event/0", "shellies/button1/sensor/battery", "shellies/button1/online"),
    ),
    "shelly_gen2": (
        DeviceProfile("plus-i4", "button", "plus-i4"),
        ("plus-i4/events/rpc", "plus-i4/online"),
    ),
    "traccar": (DeviceProfile("watch", "gps_phone", "events", serial=WATCH_SERIAL), ("events",)),
}
#: native has no sample file (yet): two messages of docs/native-protocol.md
NATIVE_SAMPLES = (
    ("callwatch/btn-0001/event", b'{"type":"sos","id":"e-1","ts":1777709730,"battery":80,"lat":30.2}'),
    ("callwatch/btn-0001/status", b"online"),
)
FieldPath = tuple[str | int, ...]


@cache
def samples(protocol: str) -> tuple[tuple[str, bytes], ...]:
    """Real ``(topic, payload)`` pairs of this family, from the fixture files."""
    paths = [path for path in sorted(FIXTURES.glob(f"{protocol}.*jsonl")) if path.name.split(".", 1)[0] == protocol]
    found = tuple((line.topic, line.payload) for path in paths for line in sample_lines(path))
    return found or NATIVE_SAMPLES


def json_samples(protocol: str) -> list[tuple[str, JsonValue]]:
    return [(topic, json.loads(payload)) for topic, payload in samples(protocol) if payload.startswith(b"{")]


def field_names() -> list[str]:
    """Every object key in the samples, so that generated objects hit real fields."""
    names: set[str] = set()
    pending = [value for protocol in FAMILIES for _, value in json_samples(protocol)]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            names.update(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return sorted(names)


def field_paths(value: JsonValue, prefix: FieldPath = ()) -> list[FieldPath]:
    """The path of every value nested in ``value``."""
    children: list[tuple[str | int, JsonValue]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found: list[FieldPath] = []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(field_paths(child, (*prefix, key)))
    return found


def replaced(value: JsonValue, path: FieldPath, new: JsonValue, *, delete: bool = False) -> JsonValue:
    """A copy of ``value`` with the value at ``path`` replaced by ``new``, or deleted."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, dict) and isinstance(key, str):
        fields = dict(value)
        if delete and not rest:
            del fields[key]
        else:
            fields[key] = replaced(value[key], rest, new, delete=delete)
        return fields
    if isinstance(value, list) and isinstance(key, int):
        items = list(value)
        if delete and not rest:
            del items[key]
        else:
            items[key] = replaced(value[key], rest, new, delete=delete)
        return items
    return value


keys = st.sampled_from(field_names()) | st.text(max_size=10)
finite_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**18), max_value=10**18)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
scalars = finite_scalars | st.floats() | st.sampled_from(["", "NaN", "1e400", "-1", "84", "true", "online"])
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=16,
)
finite_json_values = st.recursive(
    finite_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)


@cache
def payloads(protocol: str) -> st.SearchStrategy[bytes]:
    """Garbage, arbitrary JSON, and real samples with one field broken or cut short."""
    originals = [value for _, value in json_samples(protocol)]
    one_field_broken = st.sampled_from(originals).flatmap(
        lambda value: st.builds(replaced, st.just(value), st.sampled_from(field_paths(value)), json_values)
    )
    cut_short = st.sampled_from([payload for _, payload in samples(protocol)]).flatmap(
        lambda raw: st.integers(0, len(raw)).map(lambda length: raw[:length])
    )
    return st.one_of(
        one_field_broken.map(lambda value: json.dumps(value).encode()),
        cut_short,
        st.binary(max_size=120),
        st.text(max_size=40).map(str.encode),
        json_values.map(lambda value: json.dumps(value).encode()),
    )
