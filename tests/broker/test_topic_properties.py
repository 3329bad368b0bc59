"""No device entry the directory accepts can give the broker a subscription it refuses, or an
ACL line the entry did not ask for (issue #20, finding 1).

Entries are generated with hostile text in every place that reaches the broker (topic, serial,
id, of every family) and validated as the file, the forms, the API and CSV validate them
(``monitor.directory.model``). For each one accepted, with the other devices of a small fleet:

- every filter the monitor would subscribe is taken by a real Mosquitto, on one connection
  that must survive them all (the broker closes a connection over a filter it finds
  malformed), and by the model of Mosquitto's rules, also behind ``$share/<group>/``;
- the ACL and password files of `callwatch acl`, read back as Mosquitto reads them, grant
  exactly what the accounts ask for: no line more, none cut short, no other user.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

import devices
from monitor.broker.acl import Account, AclError, accounts, acl_text, credentials, password_file_text
from monitor.core.csv_cells import write_csv
from monitor.directory.model import Device
from monitor.directory.rules import duplicate_problems
from monitor.directory.spreadsheets import csv_sheet
from monitor.ingest.mqtt_client import subscription_topic
from monitor.web.forms import directory_forms
from tests.broker.mosquitto_model import (
    Grant,
    acl_grants,
    hostile_text,
    hostile_topic,
    password_accounts,
    takes_subscription,
)
from tests.support.broker import Broker

MONITOR = ("callwatch-monitor", "monitor-secret")
WAIT_S = 10.0
FLEET = [
    Device(id="btn-1", resident="r-1", protocol="native"),
    Device(id="btn-2", resident="r-2", protocol="native"),
    Device(id="hall", resident="r-1", protocol="zigbee2mqtt", topic="zigbee2mqtt/hall"),
    Device(id="watch", resident="r-2", protocol="traccar", kind="gps_phone", serial="868003031234567"),
]

ids = st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,12}", fullmatch=True), hostile_text(max_size=20))
entries = st.fixed_dictionaries(
    {
        "id": ids,
        "resident": st.just("r-1"),
        "protocol": st.sampled_from(sorted(devices.registry())),
        "kind": st.sampled_from(["button", "gps_phone", "checkin_button"]),
    },
    optional={"topic": hostile_topic(), "serial": hostile_text(max_size=40)},
)


class Subscriber:
    """One MQTT 3.1.1 connection to the real broker, as the monitor makes it; SUBSCRIBE, await SUBACK."""

    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"props-{uuid.uuid4().hex[:8]}")
        self.answers: dict[int, list[ReasonCode]] = {}
        self.changed = threading.Condition()
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()

    def _on_subscribe(self, client: object, userdata: object, mid: int, codes: list[ReasonCode], props: object) -> None:
        with self.changed:
            self.answers[mid] = codes
            self.changed.notify_all()

    def subscribe(self, filters: list[str]) -> list[int]:
        result, mid = self.client.subscribe([(topic_filter, 1) for topic_filter in filters])
        assert result == mqtt.MQTT_ERR_SUCCESS and mid is not None, f"not sent: {filters!r}"
        with self.changed:
            answered = self.changed.wait_for(lambda: mid in self.answers, WAIT_S)
        assert answered, f"no SUBACK for {filters!r}: the broker closed the connection"
        return [code.value for code in self.answers[mid]]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(broker: Broker) -> Iterator[Subscriber]:
    connection = Subscriber(broker)
    yield connection
    connection.close()


def asked_for(made: list[Account]) -> list[Grant]:
    return [
        grant
        for account in made
        for grant in (
            *(Grant(account.username, "write", topic) for topic in account.publish),
            *(Grant(account.username, "read", topic) for topic in account.subscribe),
        )
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=st.lists(entries, min_size=1, max_size=3))
def test_no_accepted_entry_makes_a_subscription_the_broker_refuses_or_an_acl_line_it_did_not_ask_for(
    subscriber: Subscriber, documents: list[dict[str, str]]
) -> None:
    accepted = []
    for document in documents:
        try:
            accepted.append(Device.model_validate(document))
        except ValidationError:
            event("refused")
            continue
        event("accepted")
    fleet = [*FLEET, *accepted]
    if duplicate_problems("devices", fleet):
        return  # the directory refuses the whole file (an id or a topic twice)

    for device in accepted:
        adapter = devices.registry()[device.protocol]
        filters = list(adapter.topic_filters(device.profile()))
        for topic_filter in filters:
            assert takes_subscription(topic_filter), topic_filter
            assert takes_subscription(subscription_topic(topic_filter, "callwatch")), topic_filter
        assert all(code < 0x80 for code in subscriber.subscribe(filters)), filters
    assert subscriber.client.is_connected()

    profiles = [(device.protocol, device.profile()) for device in fleet]
    try:
        made = accounts(profiles, MONITOR[0])
    except AclError as exc:
        # A family whose topics cannot be told apart from a sibling's (a Tasmota topic with a
        # '/'): nothing is written at all, which asks for nothing either.
        assert "is not only its own" in str(exc), exc
        event("the ACL is refused for a family rule")
        return
    text = acl_text(made, datetime(2026, 1, 1, tzinfo=UTC))
    assert acl_grants(text) == asked_for(made)
    hashes = credentials(made, {}, MONITOR).hashes
    assert password_accounts(password_file_text(hashes)) == hashes
    assert set(hashes) == {account.username for account in made}


def test_the_model_reads_an_injected_acl_as_mosquitto_did() -> None:
    """The file `callwatch acl` wrote before this fix (tests/system/reliability/test_hostile_topics.py
    saw the real broker act on it): the model finds the grant nobody asked for."""
    injected = (
        "user cam-inj\n"
        "topic write cam/inj\n"
        "topic write callwatch/btn-1/event\n"
        "user x/event\n"
        "topic read callwatch/+/event\n"
    )
    assert Grant("cam-inj", "write", "callwatch/btn-1/event") in acl_grants(injected)
    assert Grant("x/event", "read", "callwatch/+/event") in acl_grants(injected)
    assert acl_grants("user a \ntopic write  b/c\t\n") == [Grant("a", "write", "b/c")]
    assert not takes_subscription("site\t2/+/event") and takes_subscription("site 2/+/event")


@settings(max_examples=200, deadline=None)
@given(document=entries)
def test_a_csv_file_or_a_form_accepts_exactly_the_entries_the_directory_file_does(document: dict[str, str]) -> None:
    """The console's doors (a form's text values, a CSV file as exported and imported) hand the
    same validation the same entry: none lets through what the properties above did not cover,
    and CSV's formula guard gives back every topic as written (one starting with '-' or '=' too)."""
    # what a person types in a form or a spreadsheet: blanks at either end are not kept, nor empty fields
    typed = {key: value.strip() for key, value in document.items() if value.strip()}
    try:
        expected: Device | None = Device.model_validate(typed)
    except ValidationError:
        expected = None
    section = directory_forms.SECTIONS["devices"]
    names = [field.name for field in section.file_fields]
    from_form, _ = directory_forms.parse_entry(section, typed)
    exported = write_csv(names, [[typed.get(name, "") for name in names]])
    from_csv, _ = directory_forms.sheet_entries(section, csv_sheet(exported, "devices.csv"), "devices.csv")
    assert from_form == expected
    assert [row.entry for row in from_csv] == ([expected] if expected is not None else [])
