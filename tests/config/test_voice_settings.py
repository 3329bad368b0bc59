"""``[voice]``: calls through the SMS account, each mistake one sentence naming file and key."""

from pathlib import Path

import pytest

from monitor.config.settings import load_settings
from monitor.core.errors import ConfigError
from monitor.notify.channels import channel_names, configured_channels

TWILIO_BY_SERVICE = (
    '[sms]\nprovider = "twilio"\n[sms.twilio]\naccount_sid = "AC' + "0" * 32 + '"\nauth_token = "x"\n'
    'messaging_service_sid = "MG' + "0" * 32 + '"\n'
)


def refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cw.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and message.startswith(f"{path}: ") and "Traceback" not in message
    return message


def test_calls_use_the_sms_account_and_its_number(tmp_path: Path) -> None:
    path = tmp_path / "cw.toml"
    path.write_text('[sms]\nprovider = "sandbox"\n[voice]\nenabled = true\ncalls_per_s = 2\n', encoding="utf-8")
    settings = load_settings(path, {})
    channels = configured_channels(settings)
    assert channel_names(channels) == ["sms", "voice"]
    assert settings.caller_id() == "+15005550006" and settings.voice.calls_per_s == 2


def test_without_voice_enabled_there_is_no_voice_channel(tmp_path: Path) -> None:
    path = tmp_path / "cw.toml"
    path.write_text('[sms]\nprovider = "sandbox"\n', encoding="utf-8")
    assert channel_names(configured_channels(load_settings(path, {}))) == ["sms"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[voice]\nenabled = true\n", '[voice] enabled = true needs [sms] provider = "twilio" or "sandbox"'),
        (TWILIO_BY_SERVICE + "[voice]\nenabled = true\n", "[voice] from_number is needed"),
        ('[voice]\nfrom_number = "12345"\n', "[voice] from_number must be an international number"),
        ("[voice]\ncalls_per_s = 0\n", "[voice] calls_per_s input should be greater than 0"),
        ("[voice]\nring_timeout_s = 600\n", "[voice] ring_timeout_s input should be less than or equal to 120"),
        ("[voice]\nringing = 5\n", "[voice] ringing is not a known setting"),
    ],
)
def test_mistakes_are_one_sentence(tmp_path: Path, text: str, expected: str) -> None:
    message = refusal(tmp_path, text)
    assert expected in message, message
