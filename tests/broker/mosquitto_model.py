"""What Mosquitto 2 does with the text we hand it, written down from its source so property
tests can ask it thousands of times: whether it takes a SUBSCRIBE's filter or closes the
connection over it (``utf8_mosq.c``, ``util_topic.c``, ``handle_subscribe.c``), and which grants
it reads from an ACL file and which accounts from a password file (``security_default.c``).

The regression tests run the real broker on the same cases (tests/system/reliability/
test_hostile_topics.py); this model is how the properties cover the rest. Also the
strategies that make hostile text: every kind of character Mosquitto or its files treat
specially, mixed into topics that otherwise look like an installer's.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

#: C's isspace in the "C" locale: what Mosquitto trims from the end of every ACL line
C_SPACE = " \t\n\v\f\r"
#: Mosquitto gives up on a topic deeper than this (TOPIC_HIERARCHY_LIMIT)
HIERARCHY_LIMIT = 200


def utf8_valid(text: str) -> bool:
    """``mosquitto_validate_utf8``: well-formed UTF-8 without U+0000, control characters
    (U+0001-U+001F, U+007F-U+009F) or non-characters, at most 65,535 bytes."""
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    if len(encoded) > 65535:
        return False
    for char in text:
        point = ord(char)
        if point <= 0x1F or 0x7F <= point <= 0x9F:
            return False
        if 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFF) in (0xFFFE, 0xFFFF):
            return False
    return True


def takes_subscription(topic_filter: str) -> bool:
    """Whether Mosquitto answers a SUBSCRIBE of ``topic_filter`` instead of closing the connection."""
    if not topic_filter or not utf8_valid(topic_filter):
        return False
    levels = topic_filter.split("/")
    if len(levels) > HIERARCHY_LIMIT:
        return False
    for index, level in enumerate(levels):
        if level == "#" and index != len(levels) - 1:
            return False
        if level not in ("+", "#") and ("+" in level or "#" in level):
            return False
    return True


@dataclass(frozen=True)
class Grant:
    user: str | None
    access: str
    topic: str


def acl_grants(text: str) -> list[Grant]:
    """The grants Mosquitto reads from an ACL file, in order (``aclfile__parse``): lines split at
    ``\\n`` only, blanks trimmed from the end, ``#`` lines skipped, ``user`` and ``topic`` taking the
    rest of their line without its leading blanks, any other line ignored."""
    grants: list[Grant] = []
    user: str | None = None
    for raw in text.split("\n"):
        line = raw.rstrip(C_SPACE)
        if line.startswith("#"):
            continue
        keyword, rest = _token(line)
        if keyword in ("topic", "pattern"):
            access, rest = _token(rest)
            if access is None:
                raise ValueError(f"Mosquitto refuses the file: {raw!r} has no topic")
            topic = rest.lstrip(" \t") if rest else None
            if not topic:
                access, topic = "readwrite", access
            if access not in ("read", "write", "readwrite", "deny"):
                raise ValueError(f"Mosquitto refuses the file: {raw!r} grants {access!r}")
            grants.append(Grant(user, access, topic))
        elif keyword == "user":
            name = rest.lstrip(" \t") if rest else ""
            if not name:
                raise ValueError(f"Mosquitto refuses the file: {raw!r} names no user")
            user = name
    return grants


def password_accounts(text: str) -> dict[str, str]:
    """The accounts Mosquitto reads from a password file: ``name:hash`` per line."""
    accounts = {}
    for raw in text.split("\n"):
        line = raw.rstrip("\r\n")
        parts = [part for part in line.split(":") if part]
        if parts:
            accounts[parts[0]] = parts[1] if len(parts) > 1 else ""
    return accounts


def _token(text: str) -> tuple[str | None, str]:
    """``strtok_r(text, " ")``: the next word, and what follows the space after it."""
    text = text.lstrip(" ")
    if not text:
        return None, ""
    word, _, rest = text.partition(" ")
    return word, rest


# -- hostile text ----------------------------------------------------------------------------------

#: characters Mosquitto, MQTT or a line-based file treat specially, one of each kind
SPECIAL = (
    [chr(point) for point in range(0x00, 0x20)]
    + ["\x7f", "\x85", "\x9f", "\u00a0", "\u00ad", "\u2028", "\u2029", "\u200b", "\u202e", "\u3000"]
    + ["\ufdd0", "\ufffe", "\uffff", "\U0001fffe", "\ue000", "\ud800", "\udfff"]
    + ["+", "#", "/", "$", " ", ":", "%", "\\", '"', "'"]
)
#: what installers write: letters, digits, the usual punctuation, a little Chinese
PLAIN = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_.家按钮"


def hostile_text(*, surrogates: bool = True, max_size: int = 40) -> st.SearchStrategy[str]:
    """Short text mostly of plain characters, often with special ones among them."""
    special = SPECIAL if surrogates else [char for char in SPECIAL if not 0xD800 <= ord(char) <= 0xDFFF]
    return st.text(st.sampled_from(special) | st.sampled_from(PLAIN), min_size=0, max_size=max_size)


def hostile_topic(*, surrogates: bool = True) -> st.SearchStrategy[str]:
    """A topic as an installer writes it (``callwatch/btn-1``), a careless one or an attacker:
    levels of hostile text, an injected ACL line, or something very long or very deep."""
    levels = st.lists(hostile_text(surrogates=surrogates, max_size=12), min_size=1, max_size=5).map("/".join)
    injected = st.builds(
        lambda head, user: f"{head}\ntopic write callwatch/btn-1/event\nuser {user}",
        st.sampled_from(["cam/inj", "callwatch/x", "a"]),
        st.sampled_from(["x", "btn-1", "callwatch-monitor"]),
    )
    huge = st.builds(
        lambda level, count: "/".join([level] * count), st.sampled_from(["a", "ab", "家"]), st.integers(1, 300)
    )
    blank_ends = st.builds(
        lambda topic, pad: pad[0] + topic + pad[1], levels, st.sampled_from([(" ", ""), ("", " "), ("", "\t")])
    )
    return st.one_of(levels, levels, injected, huge, blank_ends, hostile_text(surrogates=surrogates, max_size=300))
