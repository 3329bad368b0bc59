"""The texts of every SMS callwatch sends, in Chinese and English.

An alert SMS must let a volunteer act without opening anything else: who, where, what
happened and when, where the resident was last located, and how to reply. The language
is the resident's for messages about them (DESIGN.md directory ``language``), falling
back to the volunteer's own for messages about the volunteer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

KIND_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "sos": "SOS",
        "fall": "FALL DETECTED",
        "geofence": "LEFT SAFE ZONE",
        "missed_checkin": "MISSED CHECK-IN",
        "device_offline": "DEVICE OFFLINE",
        "low_battery": "LOW BATTERY",
        "area_outage": "AREA OUTAGE",
    },
    "zh": {
        "sos": "紧急求助",
        "fall": "跌倒报警",
        "geofence": "离开安全区域",
        "missed_checkin": "未按时报平安",
        "device_offline": "设备离线",
        "low_battery": "设备电量低",
        "area_outage": "区域设备大面积离线",
    },
}


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What an alert SMS says, gathered from the alert, its resident and area."""

    code: int
    kind: str
    raised_at: datetime
    resident_name: str
    address: str
    area_name: str
    resident_phone: str | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    position_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageStyle:
    """Service-wide settings that shape texts."""

    timezone: ZoneInfo
    map_url_template: str

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(self.timezone).strftime("%H:%M")

    def map_link(self, lat: float, lon: float) -> str:
        return self.map_url_template.format(lat=f"{lat:.5f}", lon=f"{lon:.5f}")


def language_of(preferred: str) -> str:
    return preferred if preferred in KIND_NAMES else "en"


def alert_text(facts: AlertFacts, language: str, style: MessageStyle, *, round_number: int = 0) -> str:
    """The SMS asking a volunteer to take an alert."""
    lang = language_of(language)
    kind = KIND_NAMES[lang].get(facts.kind, facts.kind)
    when = style.local_time(facts.raised_at)
    location = _location(facts, lang, style)
    again = {"en": " (reminder)", "zh": "（再次提醒）"}[lang] if round_number > 0 else ""
    if lang == "zh":
        phone = f"老人电话{facts.resident_phone}。" if facts.resident_phone else ""
        return (
            f"【{kind}】{facts.resident_name}（{facts.area_name}，{facts.address}）{when}求助{again}。"
            f"{phone}{location}"
            f"回复“收到 {facts.code}”接手，“不行 {facts.code}”转给他人。"
        )
    phone = f" Tel {facts.resident_phone}." if facts.resident_phone else ""
    return (
        f"{kind}{again}: {facts.resident_name}, {facts.address}, {facts.area_name}, at {when}.{phone}"
        f"{location} Reply ACK {facts.code} to take it, NO {facts.code} to pass."
    )


def _location(facts: AlertFacts, lang: str, style: MessageStyle) -> str:
    if facts.lat is None or facts.lon is None:
        return ""
    link = style.map_link(facts.lat, facts.lon)
    accuracy = f" ±{round(facts.accuracy_m)}m" if facts.accuracy_m is not None else ""
    fixed = f" {style.local_time(facts.position_at)}" if facts.position_at else ""
    if lang == "zh":
        return f"位置{accuracy}{fixed}：{link} "
    return f" Location{accuracy}{fixed}: {link}"


def taken_text(facts: AlertFacts, taker_name: str, language: str) -> str:
    """Told to everyone else who was asked, once someone has taken the alert."""
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）已由{taker_name}接手，无需回复。"
    return f"{taker_name} has taken alert {facts.code} for {facts.resident_name}. No need to reply."


def ack_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return (
            f"已确认由您接手{facts.resident_name}的求助（{facts.code}），地址：{facts.address}。"
            f"处理完毕请回复“完成 {facts.code}”。"
        )
    return (
        f"Thank you: alert {facts.code} for {facts.resident_name} is yours. {facts.address}. "
        f"Reply DONE {facts.code} when it is resolved."
    )


def already_taken_text(facts: AlertFacts, taker_name: str, language: str) -> str:
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）已由{taker_name}接手，谢谢。"
    return f"Alert {facts.code} for {facts.resident_name} was already taken by {taker_name}. Thank you."


def closed_text(facts: AlertFacts, state: str, language: str) -> str:
    if language_of(language) == "zh":
        word = {"cancelled": "已取消", "resolved": "已处理完毕"}.get(state, "已结束")
        return f"{facts.resident_name}的求助（{facts.code}）{word}，无需行动。"
    return f"Alert {facts.code} for {facts.resident_name} is already {state}. Nothing to do."


def resolved_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）已记录为处理完毕，谢谢您。"
    return f"Alert {facts.code} for {facts.resident_name} is recorded as resolved. Thank you."


def decline_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"好的，{facts.resident_name}的求助（{facts.code}）正在转给其他人。"
    return f"Understood: alert {facts.code} for {facts.resident_name} is going to the next people now."


def cancelled_text(facts: AlertFacts, language: str) -> str:
    """Told to everyone asked, when the resident cancels before anyone took the alert."""
    if language_of(language) == "zh":
        return f"{facts.resident_name}已取消求助（{facts.code}），无需行动，谢谢。"
    return f"{facts.resident_name} cancelled alert {facts.code}. Nothing to do. Thank you."


def cancel_after_ack_text(facts: AlertFacts, language: str) -> str:
    """Told to whoever took the alert when the resident presses cancel afterwards."""
    if language_of(language) == "zh":
        return f"{facts.resident_name}按下了取消（{facts.code}）。请仍然确认其安全后回复“完成 {facts.code}”。"
    return (
        f"{facts.resident_name} pressed cancel on alert {facts.code}. Please still make sure they "
        f"are safe, then reply DONE {facts.code}."
    )


def unanswered_text(facts: AlertFacts, language: str, style: MessageStyle) -> str:
    """Sent to duty staff when every tier and round went unanswered."""
    lang = language_of(language)
    kind = KIND_NAMES[lang].get(facts.kind, facts.kind)
    when = style.local_time(facts.raised_at)
    if lang == "zh":
        return (
            f"【无人响应】{kind}：{facts.resident_name}（{facts.area_name}，{facts.address}）{when}发起，"
            f"所有志愿者均未接手。请立即处理，回复“收到 {facts.code}”接手。"
        )
    return (
        f"UNANSWERED {kind}: {facts.resident_name} ({facts.area_name}, {facts.address}) since {when}; "
        f"no volunteer has taken it. Act now; reply ACK {facts.code} to take it."
    )


def help_text(language: str) -> str:
    """Answer to a reply the grammar does not know."""
    if language_of(language) == "zh":
        return "未能识别您的回复。回复“收到 编号”接手求助，“完成 编号”表示处理完毕，“不行 编号”转给他人。"
    return (
        "Sorry, we did not understand. Reply ACK <number> to take an alert, "
        "DONE <number> when resolved, NO <number> to pass."
    )


def nothing_to_answer_text(language: str) -> str:
    if language_of(language) == "zh":
        return "您目前没有待处理的求助，谢谢。"
    return "You have no open alert to answer right now. Thank you."
