"""Organisations in the directory file: areas, policies and volunteers name the one that owns
them; naming one the file does not list is one sentence naming file, entry and key."""

from __future__ import annotations

from pathlib import Path

from simulator.directory_entries import entry
from tests.directory.kit import loaded, refusal

OFFICE = entry("organisations", id="so-1", name="Tianxian Street Office")
POLICY = entry("policies", id="default", tiers=[{"notify": ["area"], "ack_timeout_s": 60}], organisation="so-1")


def test_areas_policies_and_volunteers_name_their_organisation(tmp_path: Path) -> None:
    directory = loaded(
        tmp_path,
        OFFICE
        + entry("areas", id="a-1", name="Tianxian 3", organisation="so-1")
        + entry("areas", id="a-2", name="Hexi")
        + entry(
            "volunteers", id="v-1", name="Li Ming", phone="+8613900000001", areas=["a-1", "a-2"], organisation="so-1"
        )
        + POLICY,
    )
    assert [(area.id, area.organisation) for area in directory.areas] == [("a-1", "so-1"), ("a-2", None)]
    assert directory.volunteers[0].organisation == "so-1" and directory.policies[0].organisation == "so-1"


def test_an_organisation_the_file_does_not_list_is_refused_naming_entry_and_key(tmp_path: Path) -> None:
    message = refusal(tmp_path, OFFICE + entry("areas", id="a-1", name="Tianxian 3", organisation="so-9") + POLICY)
    assert message.endswith(
        'directory.toml: areas[0] (id "a-1"): organisation "so-9" does not exist; add it to [[organisations]] or '
        "fix the id."
    )
