"""What Alibaba Cloud is handed for each message: the template ``[sms.aliyun.templates]`` names
for it and exactly the parameters callwatch fills (``SMS_TEMPLATES``), each within the
provider's limit for a variable, and numbers in the form it wants."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config.settings import AliyunSettings, AliyunTemplate
from monitor.notify import texts
from monitor.notify.channel import FailureKind, Outgoing, SendFailure
from monitor.notify.sms.aliyun import AliyunSms
from monitor.notify.sms.aliyun_forms import VARIABLE_LIMIT, e164_number, fitted, provider_number
from monitor.notify.sms.template_check import template_problems

SHANGHAI = ZoneInfo("Asia/Shanghai")
RAISED = datetime(2026, 5, 6, 19, 0, tzinfo=SHANGHAI)
FACTS = texts.AlertFacts(
    code=7,
    kind="sos",
    raised_at=RAISED,
    resident_name="王秀英",
    address="12栋3单元201",
    area_name="天仙社区3",
    resident_phone="+8613800000001",
    lat=30.27411,
    lon=120.15515,
)
STYLE = texts.MessageStyle(SHANGHAI, "https://maps.example/?q={lat},{lon}")
#: Every SMS builder of ``texts`` (by name) and the messages it makes: each template name it can give.
EVERY_SMS: dict[str, list[texts.Message]] = {
    "ask": [texts.ask(FACTS, "zh", STYLE), texts.ask(FACTS, "zh", STYLE, round_number=1, distance_m=350)],
    "unanswered": [texts.unanswered(FACTS, "zh", STYLE)],
    "taken": [texts.taken(FACTS, "Li Ming", "zh")],
    "ack_confirmation": [texts.ack_confirmation(FACTS, "zh")],
    "already_taken": [texts.already_taken(FACTS, "Li Ming", "zh")],
    "closed": [texts.closed(FACTS, "resolved", "zh")],
    "resolved_confirmation": [texts.resolved_confirmation(FACTS, "zh")],
    "decline_confirmation": [texts.decline_confirmation(FACTS, "zh")],
    "cancelled": [texts.cancelled(FACTS, "zh"), texts.cancelled(replace(FACTS, kind="missed_checkin"), "zh")],
    "cancel_after_ack": [
        texts.cancel_after_ack(FACTS, "zh"),
        texts.cancel_after_ack(replace(FACTS, kind="missed_checkin"), "zh"),
    ],
    "health_report": [texts.health_report([], "zh", STYLE)],
    "area_digest": [texts.area_digest("天仙社区3", [], "zh", STYLE)],
    "help_answer": [texts.help_answer("zh"), texts.help_answer("zh", volunteer=False)],
    "nothing_to_answer": [texts.nothing_to_answer("zh")],
    "retired": [texts.retired("zh")],
    "availability": [
        texts.availability(duty, None, now=RAISED, zone=SHANGHAI, language="zh", after="status")
        for duty in ("on_call", "off_schedule", "off", "paused")
    ],
    "family_raised": [texts.family_raised(FACTS, "zh", STYLE)],
    "family_ended": [texts.family_ended(FACTS, "resolved", "zh")],
    "digest": [texts.digest(["a", "b"], "zh", 10)],
    "watchdog": [texts.watchdog("ingest", 61, "host-1", "zh")],
    "monitor_gone": [texts.monitor_gone("callwatch-1", "i-1", 12, "zh")],
    "state_hint": [texts.state_hint(FACTS, "acknowledged", "Li Ming", "other", "zh")],
    "on_the_way": [texts.on_the_way(FACTS, "19:20", "zh")],
    "on_site": [texts.on_site(FACTS, "zh")],
    "handed_back_confirmation": [texts.handed_back_confirmation(FACTS, "zh")],
    "arrival_reminder": [texts.arrival_reminder(FACTS, "zh")],
    "asked_again": [texts.asked_again(FACTS, "zh")],
    "resolve_reminder": [texts.resolve_reminder(FACTS, "zh")],
    "duty_notice": [
        texts.duty_notice(FACTS, reason, holder="Li Ming", since=RAISED, language="zh", style=STYLE)
        for reason in ("handed_back", "arrival_overdue", "resolve_overdue")
    ],
    "progress": [
        texts.progress(FACTS, stage, helper="Li", eta="19:20", language="zh")
        for stage in ("family:taken", "family:arrived", "resident:taken", "resident:on_the_way")
    ],
}


def aliyun(templates: dict[str, AliyunTemplate]) -> AliyunSettings:
    return AliyunSettings(
        sign_name="呼援守护",
        access_key_id="id",
        access_key_secret="secret",
        push_token="p" * 16,
        templates=templates,
    )


def test_every_sms_has_a_template_entry_listing_exactly_the_parameters_it_fills() -> None:
    # A new message builder in texts.py must be listed above (and so get its SMS_TEMPLATES entry);
    # what a call says (call_*) is spoken, never sent as a template.
    builders = {
        name
        for name, function in vars(texts).items()
        if inspect.isfunction(function) and function.__annotations__.get("return") == "Message"
    }
    assert set(EVERY_SMS) == {name for name in builders if not name.startswith("call_")}
    messages = [message for made in EVERY_SMS.values() for message in made]
    assert {message.template for message in messages} == set(texts.SMS_TEMPLATES)
    for message in messages:
        assert set(message.params) == set(texts.SMS_TEMPLATES[message.template]), message.template


def test_the_template_gets_the_configured_variables_each_within_the_limit() -> None:
    long_address = "幸福路" + "8" * 40 + "号"
    facts = texts.AlertFacts(
        code=7, kind="sos", raised_at=RAISED, resident_name="王秀英", address=long_address, area_name="天仙社区3"
    )
    ask = texts.ask(facts, "zh", STYLE)
    channel = AliyunSms(aliyun({"ask": AliyunTemplate(code="SMS_1", params=["resident", "address", "distance"])}))
    code, param = channel.template_param(Outgoing("+8613900000001", ask, 1))
    assert code == "SMS_1"
    assert param == '{"resident":"王秀英","address":"' + long_address[: VARIABLE_LIMIT - 1] + '…","distance":"-"}'
    assert len(fitted(long_address)) == VARIABLE_LIMIT and fitted("") == "-"


def test_a_message_without_a_template_fails_for_good_instead_of_going_as_free_text() -> None:
    channel = AliyunSms(aliyun({}))
    with pytest.raises(SendFailure) as refused:
        channel.template_param(Outgoing("+8613900000001", texts.taken(FACTS, "Li Ming", "zh"), 1))
    assert refused.value.kind is FailureKind.PERMANENT and not refused.value.about_recipient


@pytest.mark.parametrize(
    ("e164", "sent"),
    [("+8613900000001", "13900000001"), ("+85291234567", "85291234567"), ("+447700900123", "447700900123")],
)
def test_numbers_go_as_the_provider_wants_and_come_back_in_e164(e164: str, sent: str) -> None:
    assert provider_number(e164) == sent
    assert e164_number(sent) == e164


def test_a_template_naming_a_variable_callwatch_does_not_fill_is_one_sentence(tmp_path: Path) -> None:
    complete = {
        purpose: AliyunTemplate(code="SMS_1", params=list(params)) for purpose, params in texts.SMS_TEMPLATES.items()
    }
    complete["taken"] = AliyunTemplate(code="SMS_2", params=["code", "volunteer"])
    [problem] = template_problems(tmp_path / "callwatch.toml", aliyun(complete))
    assert problem.startswith(f"{tmp_path / 'callwatch.toml'}: [sms.aliyun.templates] taken params has 'volunteer'")
    assert "use only code, resident, taker" in problem


def test_later_ask_rounds_are_reminders_with_the_same_parameters() -> None:
    first, later = texts.ask(FACTS, "zh", STYLE), texts.ask(FACTS, "zh", STYLE, round_number=1)
    assert (first.template, later.template) == ("ask", "reminder")
    assert first.params == later.params
