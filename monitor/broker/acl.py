"""Who may do what on the broker, from the directory: Mosquitto's password file and ACL.

``callwatch acl --config FILE --out DIR`` writes, for the devices in the database:

- an account per device that connects to the broker itself (native buttons, OwnTracks
  phones, Tasmota, Shelly): it may publish only on its own topics (exactly those the
  monitor listens to for it) and read only its own feedback topic;
- an account per bridge for families whose devices never connect themselves (the
  zigbee2mqtt bridge, Traccar's event forwarder): it may publish the family's topics;
- the monitor's account (user and password of ``[mqtt] url``): it reads every device
  topic and writes every feedback topic.

Passwords are kept in Mosquitto's own format (PBKDF2-SHA512, ``$7$``). A device's password
is made once, when its account first appears, and handed out in ``device-credentials.csv``
(readable by the owner only) for the installer; running the command again keeps existing
accounts' passwords and drops accounts whose devices left the directory. Send Mosquitto
SIGHUP afterwards to reload both files.

Mosquitto reads both files a line at a time and trims each value: a line break in a topic
or a user name would start a line of its own (a grant nobody asked for, or the end of the
monitor's block), and a blank at either end would change what is granted. The directory
refuses such entries (``devices.topics``, the same rules), and this module refuses them once
more, whoever calls it: ``AclError`` naming the device or account, and nothing written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import devices
from devices.base import DeviceAdapter, DeviceMessage, DeviceProfile, sibling_filter
from devices.topics import text_problem, topic_filter_problem, topic_problem, user_name_problem

#: Families whose devices reach the broker through one gateway, not on their own.
BRIDGED = {"zigbee2mqtt": "bridge", "traccar": "forwarder"}
#: PBKDF2 rounds for new hashes (mosquitto_passwd's own default is 101; this costs ~5 ms a login).
HASH_ITERATIONS = 10_000
SALT_BYTES = 12
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    #: what the account is for, written above its lines in the ACL
    about: str


class AclError(ValueError):
    """A device whose topics cannot be told apart from its siblings', or a name or topic that
    Mosquitto would read otherwise than written (a line break, a control character, ...)."""


def own_filters(adapter: DeviceAdapter, profile: DeviceProfile) -> tuple[str, ...]:
    """The monitor's subscriptions for this device, narrowed to this device alone.

    Sibling filters (``callwatch/+/event``) become the device's topic (``callwatch/btn-1/event``);
    filters whose first ``+`` is the device's name (Tasmota's ``stat/+/+``) get it filled in.
    Each result is checked: a topic it matches must belong to this device.
    """
    narrowed = []
    siblings = sibling_filter(profile.topic)
    for topic_filter in adapter.topic_filters(profile):
        if topic_filter.startswith(siblings):
            own = profile.topic + topic_filter[len(siblings) :]
        elif "+" in topic_filter.split("/"):
            levels = topic_filter.split("/")
            levels[levels.index("+")] = profile.topic
            own = "/".join(levels)
        else:
            raise AclError(f"{adapter.protocol} device {profile.device_id}: {topic_filter!r} is shared by all devices")
        sample = "/".join("0" if level in ("+", "#") else level for level in own.split("/"))
        if adapter.locate(DeviceMessage(sample, b"", False, _EPOCH)) != adapter.device_ref(profile):
            raise AclError(f"{adapter.protocol} device {profile.device_id}: {own!r} is not only its own")
        narrowed.append(own)
    return tuple(dict.fromkeys(narrowed))


def accounts(profiles: Iterable[tuple[str, DeviceProfile]], monitor_user: str) -> list[Account]:
    """Every account the broker needs for these devices, the monitor's first."""
    registry = devices.registry()
    device_accounts: list[Account] = []
    bridges: dict[tuple[str, str], set[str]] = {}  # (protocol, account) -> topics
    monitor_reads: set[str] = set()
    feedback: set[str] = set()
    for protocol, profile in profiles:
        adapter = registry.get(protocol)
        if adapter is None:
            continue
        filters = adapter.topic_filters(profile)
        _check_device(adapter, profile, filters)
        monitor_reads.update(filters)
        if protocol in BRIDGED:
            bridges.setdefault((protocol, _bridge_name(protocol, profile)), set()).update(filters)
            continue
        if (problem := user_name_problem(profile.device_id)) is not None:
            raise AclError(
                f"{protocol} device {profile.device_id!r}: its id is its broker user name, and it {problem}; "
                "rename the device"
            )
        own_feedback = adapter.feedback_topic(profile)
        if own_feedback is not None:
            feedback.add(own_feedback)
        device_accounts.append(
            Account(
                username=profile.device_id,
                publish=own_filters(adapter, profile),
                subscribe=(own_feedback,) if own_feedback else (),
                about=f"{protocol} device {profile.device_id}",
            )
        )
    monitor = Account(
        username=monitor_user,
        publish=tuple(sorted(feedback)),
        subscribe=tuple(sorted(monitor_reads)),
        about="the callwatch monitor: reads every device topic, writes every feedback topic",
    )
    bridge_accounts = [
        Account(name, tuple(sorted(filters)), (), f"{protocol} {BRIDGED[protocol]}")
        for (protocol, name), filters in sorted(bridges.items())
    ]
    return [monitor, *bridge_accounts, *sorted(device_accounts, key=lambda account: account.username)]


def _check_device(adapter: DeviceAdapter, profile: DeviceProfile, filters: tuple[str, ...]) -> None:
    """The device's topic and everything made from it, as the directory checks them."""
    where = f"{adapter.protocol} device {profile.device_id!r}"
    if (problem := topic_problem(profile.topic)) is not None:
        raise AclError(f"{where}: its topic {profile.topic!r} {problem}; fix the topic in the directory")
    for topic_filter in filters:
        if (problem := topic_filter_problem(topic_filter)) is not None:
            raise AclError(f"{where}: {topic_filter!r} {problem}; fix the topic in the directory")


def _bridge_name(protocol: str, profile: DeviceProfile) -> str:
    """One bridge per family and base topic: ``zigbee2mqtt-bridge-zigbee2mqtt``, ``traccar-forwarder-events``."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", profile.topic.split("/")[0]).strip("-") or "root"
    return f"{protocol}-{BRIDGED[protocol]}-{base}"


def acl_text(all_accounts: Iterable[Account], generated_at: datetime) -> str:
    """The ACL file; ``AclError`` for anything Mosquitto would not read back exactly as written."""
    lines = [
        f"# Mosquitto ACL written by `callwatch acl` on {generated_at.isoformat(timespec='seconds')}.",
        "# Do not edit: run `callwatch acl` again after directory changes, then send mosquitto SIGHUP.",
        "# Anything not granted here is refused.",
    ]
    for account in all_accounts:
        _check_account(account)
        lines += ["", f"# {account.about}", f"user {account.username}"]
        lines += [f"topic write {topic}" for topic in account.publish]
        lines += [f"topic read {topic}" for topic in account.subscribe]
    return "\n".join(lines) + "\n"


def _check_account(account: Account) -> None:
    """Every value of an account is one line that Mosquitto reads back unchanged."""
    if (problem := user_name_problem(account.username)) is not None:
        raise AclError(f"account {account.username!r}: the user name {problem}")
    if (problem := text_problem(account.about)) is not None:
        raise AclError(f"account {account.username!r}: the comment {account.about!r} {problem}")
    for topic in (*account.publish, *account.subscribe):
        if (problem := topic_filter_problem(topic)) is not None:
            raise AclError(f"account {account.username!r}: {topic!r} {problem}")


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """Mosquitto 2's password hash: ``$7$<iterations>$<salt>$<PBKDF2-SHA512>``, base64."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    salt = base64.b64decode(parts[3])
    return hmac.compare_digest(hash_password(password, salt=salt, iterations=int(parts[2])), stored)


def parse_password_file(text: str) -> dict[str, str]:
    """``user:hash`` lines (comments and blank lines skipped)."""
    entries = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            user, _, stored = line.partition(":")
            entries[user] = stored.strip()
    return entries


@dataclass(frozen=True, slots=True)
class Credentials:
    #: every account's stored hash, for the password file
    hashes: dict[str, str]
    #: plain passwords of accounts made now, for the installer (never written anywhere else)
    new_passwords: dict[str, str]
    removed: tuple[str, ...]


def credentials(all_accounts: Iterable[Account], existing: Mapping[str, str], monitor: tuple[str, str]) -> Credentials:
    """Keep the hashes of accounts that still exist, make passwords for new ones, hash the monitor's."""
    monitor_user, monitor_password = monitor
    hashes: dict[str, str] = {}
    new_passwords: dict[str, str] = {}
    wanted = [account.username for account in all_accounts]
    for username in wanted:
        stored = existing.get(username)
        if username == monitor_user:
            keep = stored is not None and password_matches(monitor_password, stored)
            hashes[username] = stored if keep and stored else hash_password(monitor_password)
        elif stored is not None:
            hashes[username] = stored
        else:
            # hex: nothing a spreadsheet (device-credentials.csv) or a shell would read otherwise
            new_passwords[username] = secrets.token_hex(18)
            hashes[username] = hash_password(new_passwords[username])
    removed = tuple(sorted(set(existing) - set(wanted)))
    return Credentials(hashes, new_passwords, removed)


def password_file_text(hashes: Mapping[str, str]) -> str:
    """``user:hash`` lines; ``AclError`` for a name or hash that would not read back as one line."""
    for user, stored in hashes.items():
        if (problem := user_name_problem(user)) is not None:
            raise AclError(f"account {user!r}: the user name {problem}")
        if ":" in stored or text_problem(stored) is not None:
            raise AclError(f"account {user!r}: its stored password hash is not one plain line")
    return "".join(f"{user}:{stored}\n" for user, stored in hashes.items())
