"""Mistakes in the service config and the directory: one sentence each, naming file and key."""

from pathlib import Path

import pytest

from monitor.config.settings import load_settings
from monitor.core.errors import ConfigError
from monitor.directory.file import load_directory

GOOD_DIRECTORY = (Path(__file__).parents[2] / "config" / "directory.example.toml").read_text()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return str(caught.value)


def test_defaults_load_and_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.toml", '[mqtt]\nurl = "mqtt://broker:1884"\n')
    settings = load_settings(path, {"CALLWATCH_MQTT__CLIENT_ID": "monitor-2", "CALLWATCH_WEB__LISTEN": "0.0.0.0:9000"})
    assert (settings.mqtt.host, settings.mqtt.port, settings.mqtt.client_id) == ("broker", 1884, "monitor-2")
    assert settings.web.port == 9000


def test_nested_environment_override_reaches_twilio_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cw.toml",
        '[sms]\nprovider = "twilio"\n[sms.twilio]\naccount_sid = "AC' + "0" * 32 + '"\nauth_token = "x"\n'
        'from_number = "+15005550006"\n',
    )
    settings = load_settings(path, {"CALLWATCH_SMS__TWILIO__AUTH_TOKEN": "from-env"})
    assert settings.sms.twilio is not None and settings.sms.twilio.auth_token == "from-env"
    assert "from-env" not in repr(settings)


def test_wrong_type_names_file_section_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.toml", '[mqtt]\nkeepalive_s = "often"\n')
    message = config_error(path)
    assert message.startswith(f"{path}: [mqtt] keepalive_s ")
    assert "'often'" in message
    assert "\n" not in message and "Traceback" not in message


def test_unknown_key_is_named_with_a_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.toml", '[database]\nurll = "x"\n')
    assert config_error(path) == f"{path}: [database] urll is not a known setting; check its spelling or remove it."


def test_bad_value_from_the_environment_is_reported_too(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.toml", "")
    assert "[mqtt] url" in config_error(path, {"CALLWATCH_MQTT__URL": "http://nope"})


def test_supervision_numbers_are_read_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.toml", '[supervision]\noutage_min_devices = 10\ndigest_at = "08:30"\n')
    settings = load_settings(path, {})
    assert (settings.supervision.outage_min_devices, settings.supervision.digest_at.isoformat()) == (10, "08:30:00")
    flapping = write(tmp_path, "flap.toml", "[supervision]\nbattery_low_percent = 30\nbattery_cleared_percent = 25\n")
    message = config_error(flapping)
    assert message.startswith(f"{flapping}: [supervision] ") and "battery_cleared_percent (25)" in message
    assert "\n" not in message


def test_missing_file_and_broken_toml(tmp_path: Path) -> None:
    assert "file not found" in config_error(tmp_path / "absent.toml")
    broken = write(tmp_path, "broken.toml", "[mqtt\nurl = 1")
    assert config_error(broken).startswith(f"{broken}: not valid TOML")


def test_twilio_provider_without_credentials(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, "cw.toml", '[sms]\nprovider = "twilio"\n'))
    assert "[sms]" in message and "[sms.twilio]" in message


@pytest.mark.parametrize(
    ("sms", "said"),
    [
        ('provider = "sandbox"\nproviders = ["sandbox", "modem"]', "set either provider"),
        ('providers = ["modem", "modem"]', "names a provider twice"),
        ('providers = ["console", "modem"]', "cannot be one of several providers"),
        ('providers = ["twilio", "sandbox"]', "name one of them"),
        ('providers = ["sandbox", "aliyun"]', "[sms.aliyun]"),
        ('providers = ["sandbox", "pager"]', "pager"),
    ],
)
def test_a_list_of_providers_that_cannot_work_is_one_sentence(tmp_path: Path, sms: str, said: str) -> None:
    message = config_error(write(tmp_path, "cw.toml", f"[sms]\n{sms}\n"))
    assert message.startswith(str(tmp_path / "cw.toml")) and "[sms" in message and said in message
    assert len(message.splitlines()) == 1


def test_one_provider_is_a_list_of_one_and_links_go_only_where_a_provider_carries_them(tmp_path: Path) -> None:
    single = load_settings(write(tmp_path, "one.toml", '[sms]\nprovider = "sandbox"\n'), {})
    assert single.sms.provider_order == ["sandbox"] and single.sms.any_links
    several = load_settings(write(tmp_path, "two.toml", '[sms]\nproviders = ["modem", "sandbox"]\n'), {})
    assert several.sms.provider_order == ["modem", "sandbox"] and several.sms.any_links
    no_links = load_settings(write(tmp_path, "modem.toml", '[sms]\nproviders = ["modem"]\n'), {})
    assert not no_links.sms.any_links


def directory_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_directory(write(tmp_path, "directory.toml", text))
    return str(caught.value)


def test_example_directory_is_valid(tmp_path: Path) -> None:
    directory = load_directory(write(tmp_path, "directory.toml", GOOD_DIRECTORY))
    assert {device.id for device in directory.devices} == {"btn-0001", "btn-0002"}


def test_device_pointing_at_a_missing_resident_names_the_entry(tmp_path: Path) -> None:
    text = GOOD_DIRECTORY.replace('resident = "r-0002"', 'resident = "r-0099"')
    message = directory_error(tmp_path, text)
    assert 'devices[1] (id "btn-0002"): resident "r-0099" does not exist; add it or fix the id' in message
    assert message.startswith(str(tmp_path / "directory.toml"))


def test_bad_phone_number_names_the_volunteer_and_key(tmp_path: Path) -> None:
    message = directory_error(tmp_path, GOOD_DIRECTORY.replace('"+8613900000002"', '"13900000002"'))
    assert 'volunteers[1] (id "v-02"): phone must be an international number' in message


def test_unknown_protocol_lists_the_known_ones(tmp_path: Path) -> None:
    message = directory_error(
        tmp_path, GOOD_DIRECTORY.replace('protocol = "native"\ntopic', 'protocol = "zwave"\ntopic')
    )
    assert 'devices[0] (id "btn-0001"): protocol must be one of' in message and "native" in message


def test_policy_naming_an_unknown_volunteer(tmp_path: Path) -> None:
    message = directory_error(tmp_path, GOOD_DIRECTORY.replace('notify = ["v-09", "role:leader"]', 'notify = ["v-99"]'))
    assert 'policies[0] (id "default"): tiers: tier 2: "v-99" is not' in message


def test_duplicate_ids_and_phones(tmp_path: Path) -> None:
    message = directory_error(tmp_path, GOOD_DIRECTORY.replace('id = "v-02"', 'id = "v-01"'))
    assert 'volunteers: id "v-01" is used 2 times' in message


def test_a_failover_bound_below_two_seconds_is_refused_with_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.toml", "[mqtt]\nfailover_s = 0.5\n")
    assert config_error(path).startswith(f"{path}: [mqtt] failover_s ")
    settings = load_settings(write(tmp_path, "ok.toml", "[mqtt]\nfailover_s = 4\n"), {})
    # dead after half the bound, noted alive five times within that
    assert (settings.mqtt.gone_after_s, settings.mqtt.alive_every_s) == (2.0, 0.4)
