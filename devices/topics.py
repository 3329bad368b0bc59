"""What may be a device's topic, a topic filter or a broker user name: one check for everyone.

MQTT (3.1.1 sections 1.5.3 and 4.7; 5.0 sections 1.5.4 and 4.7): topics and topic filters are
UTF-8 strings of at most 65,535 bytes that never hold U+0000; control characters
(U+0001-U+001F, U+007F-U+009F) and non-characters should not appear, and a receiver may close
the connection over them. ``+`` stands for one whole level and ``#`` for the whole rest, and a
topic that is published to holds neither.

Mosquitto 2 takes the "may" literally: a SUBSCRIBE whose filter is not valid UTF-8, holds a
control character or a non-character, or puts a wildcard inside a level is a malformed packet,
and it closes the connection, taking every other filter of that packet and of the session's
reconnects with it. Its ACL and password files are read a line at a time, values trimmed of
blanks at both ends: a line break in a topic or a user name starts a line of the writer's
choosing, and a blank at either end changes what is granted.

The rules here are stricter than both, and they are the only ones: the directory refuses an
entry whose topics or name break them (``monitor.directory.model``, for the file, the console's
forms, the API and CSV alike), ingest never sends a filter that breaks them
(``monitor.ingest.consumer``), and ``callwatch acl`` writes no line that breaks them
(``monitor.broker.acl``). Each function answers None when the text is fine, else one sentence
saying what is wrong (with the character named by its code point, never shown raw).
"""

from __future__ import annotations

import unicodedata

#: a sane ceiling for a device's topic and for every filter made from it (MQTT allows 65,535)
MAX_TOPIC_BYTES = 256
#: levels of a topic or filter (Mosquitto gives up at 200; nobody needs more than a handful)
MAX_TOPIC_LEVELS = 32
#: a broker user name (a device's id, a bridge's or the monitor's account)
MAX_USER_NAME_LENGTH = 128
#: a device's serial (Traccar's uniqueId, an IMEI); the database column's width
MAX_SERIAL_LENGTH = 128


def text_problem(text: str) -> str | None:
    """Whether ``text`` is plain, printable, one-line UTF-8: the rules every topic, filter, user
    name and serial share. Refused: lone surrogates (not UTF-8), every character of Unicode's
    "other" categories (control, format, private use, unassigned, non-characters), every
    separator but the plain space (tabs, line and paragraph separators, no-break spaces), and a
    space at either end."""
    if not text:
        return "is empty"
    if text.isprintable():  # Python's "printable": no "other" character, no separator but the space
        return "starts or ends with a space" if text != text.strip() else None
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return f"is not valid UTF-8 (it holds the lone surrogate {_code(char)})"
        if category.startswith("C"):
            return f"holds the control or invisible character {_code(char)}"
        if category.startswith("Z") and char != " ":
            return f"holds the separator {_code(char)} (only the plain space may separate words)"
    if text != text.strip():
        return "starts or ends with a space"
    return None


def topic_problem(topic: str) -> str | None:
    """A device's own topic (or any topic a device publishes to): no wildcards, no ``$``."""
    problem = _topic_or_filter_problem(topic)
    if problem is not None:
        return problem
    if "+" in topic or "#" in topic:
        return "holds + or #, which are wildcards (a device's topic names one place)"
    return None


def topic_filter_problem(topic_filter: str) -> str | None:
    """A topic filter to subscribe to: a topic whose levels may be ``+``, and whose last may be ``#``."""
    problem = _topic_or_filter_problem(topic_filter)
    if problem is not None:
        return problem
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if level in ("+", "#"):
            if level == "#" and index != len(levels) - 1:
                return "has # before its last level (# may only stand for the rest of a topic)"
            continue
        if "+" in level or "#" in level:
            return f"has a wildcard inside the level {level!r} (+ and # must fill a whole level)"
    return None


def user_name_problem(name: str) -> str | None:
    """A broker account's name: written as ``user NAME`` in the ACL and ``NAME:hash`` in the
    password file, so no ``:``, no space at all and no ``#`` in front."""
    problem = text_problem(name)
    if problem is not None:
        return problem
    if len(name) > MAX_USER_NAME_LENGTH:
        return f"is longer than {MAX_USER_NAME_LENGTH} characters"
    if " " in name:
        return "holds a space (a broker user name is one word)"
    if ":" in name:
        return "holds ':', which Mosquitto's password file uses between name and password"
    if name.startswith("#"):
        return "starts with '#', which Mosquitto reads as a comment"
    return None


def serial_problem(serial: str) -> str | None:
    """A device's serial: printable, one line, no longer than the database keeps."""
    problem = text_problem(serial)
    if problem is not None:
        return problem
    if len(serial) > MAX_SERIAL_LENGTH:
        return f"is longer than {MAX_SERIAL_LENGTH} characters"
    return None


def _topic_or_filter_problem(text: str) -> str | None:
    problem = text_problem(text)
    if problem is not None:
        return problem
    size = len(text.encode("utf-8"))
    if size > MAX_TOPIC_BYTES:
        return f"is {size} bytes long in UTF-8, more than {MAX_TOPIC_BYTES}"
    if text.startswith("$"):
        return "starts with '$', which belongs to the broker ($SYS, $share)"
    levels = text.split("/")
    if len(levels) > MAX_TOPIC_LEVELS:
        return f"has {len(levels)} levels, more than {MAX_TOPIC_LEVELS}"
    if "" in levels:
        return "has an empty level (a '/' at either end, or '//')"
    return None


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"
