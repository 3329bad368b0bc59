"""A policy's follow-through deadlines in the directory file: defaults, and each mistake one
sentence naming the file, the entry and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.directory.kit import ONE_AREA, loaded, refusal

POLICY = (
    ONE_AREA
    + """
[[policies]]
id = "default"
tiers = [{ notify = ["area"] }]
"""
)


def test_a_policy_without_deadlines_gives_half_an_hour_to_arrive_and_two_hours_on_site(tmp_path: Path) -> None:
    [policy] = loaded(tmp_path, POLICY).policies
    assert (policy.arrive_within_s, policy.resolve_within_s) == (1800, 7200)


def test_a_policy_sets_its_own_deadlines(tmp_path: Path) -> None:
    [policy] = loaded(tmp_path, POLICY + "arrive_within_s = 2700\nresolve_within_s = 3600\n").policies
    assert (policy.arrive_within_s, policy.resolve_within_s) == (2700, 3600)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("arrive_within_s", "5", "arrive_within_s is 5; give between 10 and 86400 seconds (up to a day)"),
        ("arrive_within_s", "172800", "arrive_within_s is 172800; give between 10 and 86400 seconds"),
        ("resolve_within_s", "0", "resolve_within_s is 0; give between 10 and 604800 seconds (up to a week)"),
        ("arrive_within_s", '"30m"', "arrive_within_s input should be a valid integer"),
    ],
)
def test_each_mistake_in_a_deadline_is_one_sentence(tmp_path: Path, key: str, value: str, expected: str) -> None:
    message = refusal(tmp_path, POLICY + f"{key} = {value}\n")
    assert expected in message and "\n" not in message and 'policies[0] (id "default")' in message, message
