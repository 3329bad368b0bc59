"""The template texts to submit to Alibaba Cloud (``TEMPLATE_TEXTS``, listed in docs/providers.md):
one per message callwatch sends, in Chinese and English, each naming only parameters callwatch
fills, so ``check-config`` accepts them, and each saying, once filled, what the free text of the
same message says about who and which alert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config.settings import AliyunSettings, AliyunTemplate
from monitor.notify.sms.aliyun_texts import TEMPLATE_TEXTS, rendered, variables
from monitor.notify.sms.template_check import template_problems
from monitor.notify.texts import SMS_TEMPLATES
from tests.notify.test_aliyun_templates import EVERY_SMS

REPO = Path(__file__).resolve().parents[2]
PROVIDERS_DOC = REPO / "docs" / "providers.md"
#: what a filled template must still say when the free text says it
ESSENTIAL = ("resident", "code", "address", "taker", "helper", "area")
#: messages that expect no reply naming the alert (to the resident herself, the family told of one)
NO_CODE = frozenset({"resident_taken", "resident_on_the_way", "family_raised"})


def test_every_message_has_a_chinese_and_an_english_template_and_nothing_else_has() -> None:
    assert set(TEMPLATE_TEXTS) == set(SMS_TEMPLATES)
    assert all(set(languages) == {"zh", "en"} for languages in TEMPLATE_TEXTS.values())


@pytest.mark.parametrize("purpose", list(SMS_TEMPLATES))
def test_a_template_names_only_what_callwatch_fills_and_the_alert_number_where_there_is_one(purpose: str) -> None:
    for language, text in TEMPLATE_TEXTS[purpose].items():
        named = variables(text)
        assert set(named) <= set(SMS_TEMPLATES[purpose]), f"{purpose} ({language}) names {named}"
        if "code" in SMS_TEMPLATES[purpose] and purpose not in NO_CODE:
            assert "code" in named, f"{purpose} ({language}) does not say which alert"
        assert "http" not in text, "operators refuse links in notification templates"
        assert "【" not in text, "only the sign name is in 【】"


def test_check_config_accepts_templates_registered_from_these_texts() -> None:
    templates = {
        purpose: AliyunTemplate(code=f"SMS_{100001 + number}", params=variables(texts["zh"]))
        for number, (purpose, texts) in enumerate(TEMPLATE_TEXTS.items())
    }
    aliyun = AliyunSettings(
        sign_name="呼援守护",
        access_key_id="id",
        access_key_secret="secret",
        push_token="0123456789abcdef",
        templates=templates,
    )
    assert template_problems(Path("callwatch.toml"), aliyun) == []


@pytest.mark.parametrize("builder", list(EVERY_SMS))
def test_a_filled_template_says_who_and_which_alert_as_the_free_text_does(builder: str) -> None:
    for message in EVERY_SMS[builder]:
        shown = rendered(TEMPLATE_TEXTS[message.template]["zh"], dict(message.params))
        for name in ESSENTIAL:
            value = message.params.get(name)
            if value and value in message.text and f"${{{name}}}" in TEMPLATE_TEXTS[message.template]["zh"]:
                assert value in shown, f"{message.template}: {shown!r} lacks {name} {value!r}"
        if message.params.get("resident") and message.params["resident"] in message.text:
            assert message.params["resident"] in shown, f"{message.template} does not name the resident"


def test_docs_providers_lists_every_template_text_to_submit() -> None:
    doc = PROVIDERS_DOC.read_text(encoding="utf-8")
    missing = []
    for purpose, languages in TEMPLATE_TEXTS.items():
        row = next((line for line in doc.splitlines() if re.match(rf"\| `{purpose}` \|", line)), None)
        if row is None or any(text.replace("|", "\\|") not in row for text in languages.values()):
            missing.append(purpose)
    assert missing == [], f"docs/providers.md lacks the template texts of {missing}"
