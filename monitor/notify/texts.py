"""Every message callwatch sends to people, in Chinese and English: written here and nowhere else.

Each builder returns a ``Message`` in both forms a channel may need: the free text (what
Twilio sends, what the log shows) and the name of the template it instantiates with the
parameters it filled in, for providers that accept only pre-approved templates (mainland
Chinese SMS providers). Escalation, actions and supervision say which message and to whom;
they never write text themselves.

An ask must let a volunteer act without opening anything else: who, where, what happened
and when, where the resident was last located, and how to reply. Every message is in the
language of the person it goes to (the directory's ``language`` of the volunteer, staff phone
or family contact): an English-speaking volunteer asked about a Chinese-speaking resident reads
English, with the resident's name and address as the directory has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
class Message:
    """One message to one person: the text, and the template it instantiates with its parameters."""

    #: which message this is: "ask", "reminder", "taken", ... (a template provider maps it to its code)
    template: str
    text: str
    params: Mapping[str, str] = field(default_factory=dict)
    #: the text without its responder link, for a provider that carries no links (None: it has none)
    without_link: str | None = None

    def for_links(self, allowed: bool) -> Message:
        """The message as a provider that does (or does not) carry links is given it."""
        if allowed or self.without_link is None:
            return self
        return Message(self.template, self.without_link, {**self.params, "link": ""})


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
    #: where responder-page links start ("https://host/r/"); None where the provider refuses
    #: SMS with links: the ask then carries the map link and everything essential without a page
    link_base: str | None = None

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(self.timezone).strftime("%H:%M")

    def map_link(self, lat: float, lon: float) -> str:
        return self.map_url_template.format(lat=f"{lat:.5f}", lon=f"{lon:.5f}")


def language_of(preferred: str) -> str:
    return preferred if preferred in KIND_NAMES else "en"


#: What happened, per kind, after the resident's name and address ({when} is the local time).
WHAT_HAPPENED: dict[str, dict[str, str]] = {
    "en": {
        "missed_checkin": "no check-in as of {when}. Please call or knock on the door",
        "geofence": "left the safe zone at {when}",
    },
    "zh": {
        "missed_checkin": "截至{when}未报平安，请电话联系或上门查看",
        "geofence": "{when}离开安全区域",
    },
}
DEFAULT_HAPPENED: dict[str, str] = {"en": "at {when}", "zh": "{when}求助"}


def _alert_text(
    facts: AlertFacts,
    language: str,
    style: MessageStyle,
    *,
    round_number: int = 0,
    distance_m: float | None = None,
    link: str | None = None,
) -> str:
    """The SMS asking a volunteer (or a family member) to take an alert; ``distance_m``: how far
    the resident is from them, when both positions are known; ``link``: their responder page,
    in place of the map link."""
    lang = language_of(language)
    kind = KIND_NAMES[lang].get(facts.kind, facts.kind)
    happened = (
        WHAT_HAPPENED[lang].get(facts.kind, DEFAULT_HAPPENED[lang]).format(when=style.local_time(facts.raised_at))
    )
    location = _location(facts, lang, style, link)
    again = {"en": " (reminder)", "zh": "（再次提醒）"}[lang] if round_number > 0 else ""
    away = distance_text(distance_m, lang) if distance_m is not None else ""
    if lang == "zh":
        phone = f"老人电话{facts.resident_phone}。" if facts.resident_phone else ""
        return (
            f"【{kind}】{facts.resident_name}（{facts.area_name}，{facts.address}）{happened}{again}。"
            f"{away + '。' if away else ''}{phone}{location}"
            f"回复“收到 {facts.code}”接手，“不行 {facts.code}”转给他人。"
        )
    phone = f" Tel {facts.resident_phone}." if facts.resident_phone else ""
    return (
        f"{kind}{again}: {facts.resident_name}, {facts.address}, {facts.area_name}, {happened}."
        f"{' ' + away[:1].upper() + away[1:] + '.' if away else ''}{phone}"
        f"{location} Reply ACK {facts.code} to take it, NO {facts.code} to pass."
    )


def distance_text(metres: float, language: str) -> str:
    """How far the resident is from the person asked: "about 350 m from you", "距您约1.2公里"."""
    zh = language_of(language) == "zh"
    if metres < 1000:
        rounded = max(10, round(metres / 10) * 10)
        return f"距您约{rounded}米" if zh else f"about {rounded} m from you"
    kilometres = f"{metres / 1000:.1f}" if metres < 10_000 else f"{round(metres / 1000)}"
    return f"距您约{kilometres}公里" if zh else f"about {kilometres} km from you"


def _location(facts: AlertFacts, lang: str, style: MessageStyle, page: str | None = None) -> str:
    """Where the resident was last located: accuracy, fix time, its age when the alert was raised,
    and the map link; or, with the responder ``page``, only that link: the page has the map and
    the fix, and a Chinese ask with a position stays within two segments."""
    if page is not None:
        return f"详情：{page} " if lang == "zh" else f" Details: {page}"
    if facts.lat is None or facts.lon is None:
        return ""
    link = style.map_link(facts.lat, facts.lon)
    accuracy = f" ±{round(facts.accuracy_m)}m" if facts.accuracy_m is not None else ""
    fixed = f" {style.local_time(facts.position_at)}" if facts.position_at else ""
    minutes = round((facts.raised_at - facts.position_at).total_seconds() / 60) if facts.position_at else 0
    if lang == "zh":
        age = f"（{minutes}分钟前）" if minutes >= 1 else ""
        return f"位置{accuracy}{fixed}{age}：{link} "
    age = f" ({minutes} min old)" if minutes >= 1 else ""
    return f" Location{accuracy}{fixed}{age}: {link}"


def _taken_text(facts: AlertFacts, taker_name: str, language: str) -> str:
    """Told to everyone else who was asked, once someone has taken the alert."""
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）已由{taker_name}接手，无需回复。"
    return f"{taker_name} has taken alert {facts.code} for {facts.resident_name}. No need to reply."


def _ack_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return (
            f"已确认由您接手{facts.resident_name}的求助（{facts.code}），地址：{facts.address}。"
            f"出发请回复“出发 分钟数”，到达请回复“到了”，处理完毕请回复“完成 {facts.code}”。"
        )
    return (
        f"Thank you: alert {facts.code} for {facts.resident_name} is yours. {facts.address}. "
        f"Reply OMW <minutes> when you set off, HERE when you arrive, DONE {facts.code} when it is resolved."
    )


def _already_taken_text(facts: AlertFacts, taker_name: str, language: str) -> str:
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）已由{taker_name}接手，谢谢。"
    return f"Alert {facts.code} for {facts.resident_name} was already taken by {taker_name}. Thank you."


def _closed_text(facts: AlertFacts, state: str, language: str) -> str:
    if language_of(language) == "zh":
        word = {"cancelled": "已取消", "resolved": "已处理完毕"}.get(state, "已结束")
        return f"{facts.resident_name}的求助（{facts.code}）{word}，无需行动。"
    return f"Alert {facts.code} for {facts.resident_name} is already {state}. Nothing to do."


def _resolved_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）已记录为处理完毕，谢谢您。"
    return f"Alert {facts.code} for {facts.resident_name} is recorded as resolved. Thank you."


def _decline_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"好的，{facts.resident_name}的求助（{facts.code}）正在转给其他人。"
    return f"Understood: alert {facts.code} for {facts.resident_name} is going to the next people now."


def _cancelled_text(facts: AlertFacts, language: str) -> str:
    """Told to everyone asked, when the resident cancels before anyone took the alert
    (or, for a missed check-in, checks in late)."""
    checked_in = facts.kind == "missed_checkin"
    if language_of(language) == "zh":
        if checked_in:
            return f"{facts.resident_name}已报平安（{facts.code}），无需上门，谢谢。"
        return f"{facts.resident_name}已取消求助（{facts.code}），无需行动，谢谢。"
    if checked_in:
        return f"{facts.resident_name} has checked in after all (alert {facts.code}). No visit needed. Thank you."
    return f"{facts.resident_name} cancelled alert {facts.code}. Nothing to do. Thank you."


def _cancel_after_ack_text(facts: AlertFacts, language: str) -> str:
    """Told to whoever took the alert when the resident presses cancel (or checks in) afterwards."""
    checked_in = facts.kind == "missed_checkin"
    if language_of(language) == "zh":
        did = "刚刚报了平安" if checked_in else "按下了取消"
        return f"{facts.resident_name}{did}（{facts.code}）。请仍然确认其安全后回复“完成 {facts.code}”。"
    did = "has just checked in" if checked_in else "pressed cancel"
    return (
        f"{facts.resident_name} {did} on alert {facts.code}. Please still make sure they "
        f"are safe, then reply DONE {facts.code}."
    )


def _unanswered_text(facts: AlertFacts, language: str, style: MessageStyle) -> str:
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


@dataclass(frozen=True, slots=True)
class HealthItem:
    """One device-health alert as a line of duty staff's SMS or of an area's daily digest."""

    kind: str
    #: the device and its resident, or for an area outage the area
    subject: str
    since: datetime
    resident_name: str | None = None
    battery: int | None = None  # percent, for low battery
    devices: int | None = None  # how many, for an area outage
    ended: bool = False  # the device is well again


#: At most this many lines per SMS; the rest are counted, and the console has them all.
HEALTH_LINES = 5


def _health_report_text(items: list[HealthItem], language: str, style: MessageStyle) -> str:
    """Duty staff's batched SMS: the device-health alerts raised since the last one."""
    lang = language_of(language)
    lines = [_health_line(item, lang, style, with_state=False) for item in items[:HEALTH_LINES]]
    more = len(items) - len(lines)
    if lang == "zh":
        rest = f"；另有{more}条" if more else ""
        return f"【设备状态】{len(items)}条新提醒：{'；'.join(lines)}{rest}。详情见值班台。"
    rest = f"; {more} more" if more else ""
    return f"Device report, {len(items)} new: {'; '.join(lines)}{rest}. Details on the duty console."


def _area_digest_text(area_name: str, items: list[HealthItem], language: str, style: MessageStyle) -> str:
    """An area team's daily digest of device problems in their area, and whether each is over."""
    lang = language_of(language)
    lines = [_health_line(item, lang, style, with_state=True) for item in items[:HEALTH_LINES]]
    more = len(items) - len(lines)
    if lang == "zh":
        rest = f"；另有{more}条" if more else ""
        return f"【每日设备简报】{area_name}：{'；'.join(lines)}{rest}。如需帮忙请联系值班台。"
    rest = f"; {more} more" if more else ""
    return f"Daily device digest, {area_name}: {'; '.join(lines)}{rest}. Ask the duty desk if you can help."


def _health_line(item: HealthItem, lang: str, style: MessageStyle, *, with_state: bool) -> str:
    kind = KIND_NAMES[lang].get(item.kind, item.kind)
    when = style.local_time(item.since)
    battery = f"{item.battery}%" if item.battery is not None else ""
    if lang == "zh":
        who = f"（{item.resident_name}）" if item.resident_name else ""
        count = f"（{item.devices}台设备）" if item.devices is not None else ""
        state = ("，已恢复" if item.ended else "，未恢复") if with_state else ""
        return f"{kind} {item.subject}{who}{count}{battery}，{when}起{state}"
    who = f" ({item.resident_name})" if item.resident_name else ""
    count = f" ({item.devices} devices)" if item.devices is not None else ""
    state = (", back" if item.ended else ", ongoing") if with_state else ""
    return f"{kind} {item.subject}{who}{count}{' ' + battery if battery else ''} since {when}{state}"


def _help_text(language: str, *, volunteer: bool = True) -> str:
    """Answer to a reply the grammar does not know (volunteers also hear how to set their availability)."""
    if language_of(language) == "zh":
        availability = "；“休息”“上班”“暂停2小时”“状态”设置值班状态" if volunteer else ""
        return (
            f"未能识别您的回复。回复“收到 编号”接手求助，“完成 编号”表示处理完毕，“不行 编号”转给他人{availability}。"
        )
    availability = "; OFF, ON, PAUSE 2h or STATUS for your availability" if volunteer else ""
    return (
        "Sorry, we did not understand. Reply ACK <number> to take an alert, "
        f"DONE <number> when resolved, NO <number> to pass{availability}."
    )


WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}


def moment_text(moment: datetime, now: datetime, zone: ZoneInfo, language: str) -> str:
    """A moment as people say it: "21:15" today, "tomorrow 08:00", "Sat 08:00" this week, else the date."""
    lang = language_of(language)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days == 0:
        return clock
    if days == 1:
        return f"明天{clock}" if lang == "zh" else f"tomorrow {clock}"
    if 1 < days < 7:
        return f"{WEEKDAYS[lang][local.weekday()]}{'' if lang == 'zh' else ' '}{clock}"
    if lang == "zh":
        return f"{local.month}月{local.day}日{clock}"
    return f"{WEEKDAYS['en'][local.weekday()]} {local.day} {local:%b} {clock}"


def _availability_text(
    duty: str, until: datetime | None, *, now: datetime, zone: ZoneInfo, language: str, after: str
) -> str:
    """The answer to OFF, ON, PAUSE and STATUS: where the volunteer stands now, and until when.

    ``duty`` is one of on_call, off_schedule, off, paused (``monitor.oncall.standing.Duty``);
    ``after`` the word answered: off, on, pause or status.
    """
    zh = language_of(language) == "zh"
    when = moment_text(until, now, zone, language) if until is not None else None
    if duty == "off":
        if zh:
            return (
                "已设为休息：回复“上班”前不会再收到求助短信。"
                if after == "off"
                else ("您目前处于休息状态，回复“上班”前不会收到求助短信。")
            )
        return "You are off duty: no alert SMS until you reply ON."
    if duty == "paused":
        if zh:
            return (
                f"{'已暂停' if after == 'pause' else '您已暂停'}至{when}，此前不会收到求助短信。回复“上班”可提前恢复。"
            )
        return f"Paused until {when}: no alert SMS until then. Reply ON to come back sooner."
    back = ("已恢复。" if zh else "Welcome back. ") if after == "on" else ""
    if duty == "on_call":
        if zh:
            return back + (f"您目前在值班，至{when}。" if when else "您目前在值班，未来一周无间断。")
        return back + (
            f"You are on call until {when}." if when else "You are on call, with no break in the coming week."
        )
    if zh:
        return back + (
            f"您目前不在值班时间，下次值班从{when}开始。" if when else "您目前不在值班时间，未来一周也没有值班安排。"
        )
    return back + (
        f"You are not on call now; your schedule has you on call from {when}."
        if when
        else "You are not on call now, nor in the coming week."
    )


def _family_raised_text(facts: AlertFacts, language: str, style: MessageStyle) -> str:
    """To a resident's family contact who is only informed: an alert about her was raised."""
    lang = language_of(language)
    kind = KIND_NAMES[lang].get(facts.kind, facts.kind)
    when = style.local_time(facts.raised_at)
    if lang == "zh":
        return (
            f"【{kind}】您的家人{facts.resident_name}（{facts.address}）{when}发出{kind}，"
            "社区已通知志愿者处理，结束后会再告知您。无需回复。"
        )
    return (
        f"{kind}: {facts.resident_name} ({facts.address}) raised an alert at {when}. The community care team "
        "has been alerted; we will tell you when it is over. No need to reply."
    )


#: How an alert ended, as told to the family.
ENDINGS: dict[str, dict[str, str]] = {
    "en": {
        "cancelled": "was cancelled by {name}; no help was needed",
        "checked_in": "is over: {name} has checked in after all",
        "false_alarm": "is over: it was a false alarm",
        "handled_by_phone": "is over: it was handled by phone",
        "volunteer_visited": "is over: a volunteer visited",
        "ambulance_called": "is over: an ambulance was called",
    },
    "zh": {
        "cancelled": "已由{name}本人取消，无需处理",
        "checked_in": "已结束：{name}已报平安",
        "false_alarm": "已结束：经核实为误报",
        "handled_by_phone": "已结束：已电话处理",
        "volunteer_visited": "已结束：志愿者已上门处理",
        "ambulance_called": "已结束：已呼叫救护车",
    },
}


def _family_ended_text(facts: AlertFacts, ending: str, language: str) -> str:
    """To a family contact told of the alert: it ended (``ending``: cancelled, or the resolved outcome)."""
    lang = language_of(language)
    default = "已处理完毕" if lang == "zh" else "is over"
    if facts.kind == "missed_checkin" and ending == "cancelled":
        ending = "checked_in"  # a late check-in ends a missed check-in alert
    how = ENDINGS[lang].get(ending, default).format(name=facts.resident_name)
    if lang == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）{how}。无需回复。"
    return f"The alert ({facts.code}) for {facts.resident_name} {how}. No need to reply."


def _nothing_to_answer_text(language: str) -> str:
    if language_of(language) == "zh":
        return "您目前没有待处理的求助，谢谢。"
    return "You have no open alert to answer right now. Thank you."


def _retired_text(language: str) -> str:
    if language_of(language) == "zh":
        return "您已退出本社区的求助志愿者名单，今后不会再收到求助短信。感谢您一直以来的帮助！"
    return "You have left this community's volunteer list: you will get no more alert SMS. Thank you for all your help!"


#: A digest quotes at most this many of the messages it stands for, each cut to DIGEST_QUOTE characters.
DIGEST_ITEMS = 6
DIGEST_QUOTE = 60


def _digest_text(held_bodies: list[str], language: str, limit: int) -> str:
    """One SMS for everything a phone's limit (``limit`` per 15 minutes) held back, most urgent first."""
    lang = language_of(language)
    quoted = [_quote(body) for body in held_bodies[:DIGEST_ITEMS]]
    more = len(held_bodies) - len(quoted)
    if lang == "zh":
        rest = f"；另有{more}条" if more else ""
        return (
            f"【汇总】为免短信过多（每15分钟最多{limit}条），以下{len(held_bodies)}条合并发送："
            f"{'；'.join(quoted)}{rest}。详情见值班台。"
        )
    rest = f"; {more} more" if more else ""
    return (
        f"Digest of {len(held_bodies)} messages held back (at most {limit} SMS per 15 min): "
        f"{'; '.join(quoted)}{rest}. Details on the duty console."
    )


def _quote(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= DIGEST_QUOTE else flat[: DIGEST_QUOTE - 1] + "…"


def _watchdog_text(loop: str, stalled_s: float, host: str, language: str) -> str:
    """To duty staff: a loop of the monitor stopped; it is restarting, watch the console meanwhile."""
    if language_of(language) == "zh":
        return (
            f"【系统故障】callwatch监控服务（{host}）的{loop}环节已{round(stalled_s)}秒无进展，正在重启。"
            "请留意值班台，并电话确认紧急求助。"
        )
    return (
        f"CALLWATCH FAULT: the monitor's {loop} loop on {host} made no progress for {round(stalled_s)} s "
        "and is restarting. Watch the duty console and phone residents with open SOS alerts."
    )


def _monitor_gone_text(client_id: str, instance_id: str, silent_s: float, language: str) -> str:
    """To duty staff: one of several monitors died and nobody restarted it; the others do its work."""
    if language_of(language) == "zh":
        return (
            f"【系统故障】callwatch监控实例{client_id}（{instance_id}）已{round(silent_s)}秒无响应，"
            "其工作已由其他实例接管。请尽快修复该主机并重启它：在此之前，可接替下一次故障的实例少了一个。"
        )
    return (
        f"CALLWATCH FAULT: monitor {client_id} ({instance_id}) has been silent for {round(silent_s)} s; "
        "the other monitors took over its work. Fix its host and start it again: until then one monitor "
        "fewer stands by for the next failure."
    )


# -- follow-through: on the way, on site, handed back, overdue -------------------------------------

#: What a volunteer may reply about an alert in each state, for the answer to a reply that does
#: not fit it ({code}: the alert's number).
REPLIES_NOW: dict[str, dict[str, str]] = {
    "en": {
        "open": "ACK {code} to take it, NO {code} to pass",
        "holder": "OMW <minutes> when you set off, HERE when you arrive, DONE {code} when it is over, "
        "NO {code} to hand it back",
        "on_site": "DONE {code} when it is over",
        "other": "nothing: no need to reply",
    },
    "zh": {
        "open": "“收到 {code}”接手，“不行 {code}”转给他人",
        "holder": "“出发 分钟数”表示已出发，“到了”表示已到达，“完成 {code}”表示处理完毕，“不行 {code}”交还",
        "on_site": "处理完毕请回复“完成 {code}”",
        "other": "无需回复",
    },
}
#: An alert's state as a volunteer is told it.
STATE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "open": "waiting for someone to take it",
        "acknowledged": "taken by {holder}",
        "en_route": "taken by {holder}, who is on the way",
        "on_site": "being handled by {holder} on site",
        "resolved": "resolved",
        "cancelled": "cancelled",
    },
    "zh": {
        "open": "正在等待接手",
        "acknowledged": "已由{holder}接手",
        "en_route": "已由{holder}接手，正在赶往",
        "on_site": "{holder}已到达现场处理",
        "resolved": "已处理完毕",
        "cancelled": "已取消",
    },
}


def _state_hint_text(facts: AlertFacts, state: str, holder: str, replies: str, language: str) -> str:
    lang = language_of(language)
    said = STATE_WORDS[lang].get(state, state).format(holder=holder)
    can = REPLIES_NOW[lang][replies].format(code=facts.code)
    if lang == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）{said}。您可回复：{can}。"
    return f"Alert {facts.code} for {facts.resident_name} is {said}. You can reply {can}."


def _on_the_way_text(facts: AlertFacts, eta: str, language: str) -> str:
    if language_of(language) == "zh":
        expected = f"，预计{eta}到达" if eta else ""
        return f"已记录您正赶往{facts.resident_name}处（{facts.code}）{expected}。到达后请回复“到了”。"
    expected = f", expected at {eta}" if eta else ""
    return (
        f"Noted: you are on your way to {facts.resident_name} (alert {facts.code}){expected}. "
        "Reply HERE when you arrive."
    )


def _on_site_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"已记录您到达{facts.resident_name}处（{facts.code}）。处理完毕请回复“完成 {facts.code}”。"
    return f"Noted: you are with {facts.resident_name} (alert {facts.code}). Reply DONE {facts.code} when it is over."


def _handed_back_confirmation_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"好的，{facts.resident_name}的求助（{facts.code}）已交还，正在转给其他人。"
    return f"Understood: alert {facts.code} for {facts.resident_name} is handed back and going to others now."


def _arrival_reminder_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return (
            f"您在赶往{facts.resident_name}处（{facts.code}，{facts.address}）的路上吗？"
            f"到达后请回复“到了”，无法前往请回复“不行 {facts.code}”。"
        )
    return (
        f"Are you on the way to {facts.resident_name} (alert {facts.code}, {facts.address})? "
        f"Reply HERE when you arrive, NO {facts.code} to hand it back."
    )


def _asked_again_text(facts: AlertFacts, language: str) -> str:
    """To whoever took it, at the arrival deadline: others are asked now, their HERE still counts."""
    if language_of(language) == "zh":
        return (
            f"{facts.resident_name}的求助（{facts.code}）已超时无人到达，已同时请其他人前往。"
            "如您仍在路上，到达后请回复“到了”。"
        )
    return (
        f"Nobody has arrived at {facts.resident_name}'s (alert {facts.code}) in time, so others are asked too. "
        "If you are still going, reply HERE when you arrive."
    )


def _resolve_reminder_text(facts: AlertFacts, language: str) -> str:
    if language_of(language) == "zh":
        return f"{facts.resident_name}的求助（{facts.code}）仍未结束。处理完毕请回复“完成 {facts.code}”。"
    return f"Alert {facts.code} for {facts.resident_name} is still open. Reply DONE {facts.code} when it is over."


#: Why duty staff hear of a taken alert.
DUTY_REASONS: dict[str, dict[str, str]] = {
    "en": {
        "handed_back": "{holder} handed it back{why}; the next people are being asked",
        "arrival_overdue": "taken by {holder} at {since}, nobody on site yet; the next people are being asked",
        "resolve_overdue": "{holder} on site since {since} and not resolved yet; please check",
    },
    "zh": {
        "handed_back": "{holder}已交还{why}，正在转给其他人",
        "arrival_overdue": "{holder}于{since}接手，至今无人到达，正在转给其他人",
        "resolve_overdue": "{holder}自{since}在现场，至今未结束，请跟进",
    },
}


def _duty_text(
    facts: AlertFacts, reason: str, holder: str, since: datetime, why: str, language: str, style: MessageStyle
) -> str:
    lang = language_of(language)
    kind = KIND_NAMES[lang].get(facts.kind, facts.kind)
    explained = f"（{why}）" if why and lang == "zh" else (f" ({why})" if why else "")
    said = DUTY_REASONS[lang][reason].format(holder=holder, since=style.local_time(since), why=explained)
    if lang == "zh":
        flag = "【已交还】" if reason == "handed_back" else "【超时】"
        return f"{flag}{kind}：{facts.resident_name}（{facts.area_name}，{facts.address}）{said}。编号{facts.code}。"
    flag = "HANDED BACK" if reason == "handed_back" else "OVERDUE"
    return f"{flag} {kind} {facts.code}: {facts.resident_name} ({facts.area_name}, {facts.address}): {said}."


#: Help on its way, as the family (taken, arrived) and the resident (taken, on the way) are told it.
PROGRESS: dict[str, dict[str, str]] = {
    "en": {
        "family:taken": "{helper} has taken the alert ({code}) for {resident} and is going to help",
        "family:arrived": "{helper} is with {resident} now (alert {code})",
        "resident:taken": "{helper} has your call for help and is coming",
        "resident:on_the_way": "{helper} is on the way to you{eta}",
    },
    "zh": {
        "family:taken": "{resident}的求助（{code}）已由{helper}接手，正在前往",
        "family:arrived": "{helper}已到达{resident}身边（{code}）",
        "resident:taken": "{helper}已收到您的求助，正在赶来",
        "resident:on_the_way": "{helper}正在赶来{eta}",
    },
}


def _progress_text(facts: AlertFacts, stage: str, helper: str, eta: str, language: str) -> str:
    lang = language_of(language)
    when = (f"，预计{eta}到达" if lang == "zh" else f", expected at {eta}") if eta else ""
    said = PROGRESS[lang][stage].format(helper=helper, resident=facts.resident_name, code=facts.code, eta=when)
    if lang == "zh":
        return f"{said}。无需回复。"
    return f"{said}. No need to reply."


# -- messages: each one's template name and parameters beside its text ------------------------


#: The parameters every message about an alert fills (``_about``), and a short one's (``_short``).
ABOUT_PARAMS = ("code", "kind", "resident", "address", "area", "when")
SHORT_PARAMS = ("code", "resident")

#: Every SMS callwatch sends, by template name, with the parameters it fills: what a provider
#: that sends only approved templates needs a template for (``[sms.aliyun.templates]``).
SMS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "ask": (*ABOUT_PARAMS, "phone", "distance", "location", "link"),
    "reminder": (*ABOUT_PARAMS, "phone", "distance", "location", "link"),
    "unanswered": ABOUT_PARAMS,
    "taken": (*SHORT_PARAMS, "taker"),
    "ack_confirmation": (*SHORT_PARAMS, "address"),
    "already_taken": (*SHORT_PARAMS, "taker"),
    "closed": (*SHORT_PARAMS, "state"),
    "resolved_confirmation": SHORT_PARAMS,
    "decline_confirmation": SHORT_PARAMS,
    "cancelled": SHORT_PARAMS,
    "checked_in": SHORT_PARAMS,
    "cancel_after_ack": SHORT_PARAMS,
    "checked_in_after_ack": SHORT_PARAMS,
    "health_report": ("count", "more"),
    "area_digest": ("area", "count", "more"),
    "help": (),
    "help_family": (),
    "nothing_to_answer": (),
    "retired": (),
    **{f"availability_{duty}": ("until", "after") for duty in ("on_call", "off_schedule", "off", "paused")},
    "family_raised": ABOUT_PARAMS,
    "family_ended": (*SHORT_PARAMS, "ending"),
    "digest": ("count", "limit"),
    "watchdog": ("loop", "seconds", "host"),
    "monitor_gone": ("client_id", "instance", "seconds"),
    "state_hint": (*SHORT_PARAMS, "state", "holder"),
    "on_the_way": (*SHORT_PARAMS, "eta"),
    "on_site": SHORT_PARAMS,
    "handed_back_confirmation": SHORT_PARAMS,
    "arrival_reminder": (*SHORT_PARAMS, "address"),
    "asked_again": SHORT_PARAMS,
    "resolve_reminder": SHORT_PARAMS,
    **{reason: (*ABOUT_PARAMS, "reason", "holder", "why") for reason in DUTY_REASONS["en"]},
    **{stage.replace(":", "_"): (*SHORT_PARAMS, "stage", "helper", "eta") for stage in PROGRESS["en"]},
}


def _about(facts: AlertFacts, language: str, style: MessageStyle) -> dict[str, str]:
    """The parameters of a message about an alert: what, who, where and when."""
    return {
        "code": str(facts.code),
        "kind": KIND_NAMES[language_of(language)].get(facts.kind, facts.kind),
        "resident": facts.resident_name,
        "address": facts.address,
        "area": facts.area_name,
        "when": style.local_time(facts.raised_at),
    }


def _short(facts: AlertFacts) -> dict[str, str]:
    """The parameters of a short message about an alert: its code and whom it is about."""
    return {"code": str(facts.code), "resident": facts.resident_name}


def ask(
    facts: AlertFacts,
    language: str,
    style: MessageStyle,
    *,
    round_number: int = 0,
    distance_m: float | None = None,
    link: str | None = None,
) -> Message:
    """Asking a volunteer (or a family member) to take an alert; ``distance_m``: how far the
    resident is from them, when both positions are known; ``link``: their responder page; a
    later round is a reminder."""
    lang = language_of(language)
    params = _about(facts, lang, style) | {
        "phone": facts.resident_phone or "",
        "distance": distance_text(distance_m, lang) if distance_m is not None else "",
        "location": style.map_link(facts.lat, facts.lon) if facts.lat is not None and facts.lon is not None else "",
        "link": link or "",
    }
    text = _alert_text(facts, lang, style, round_number=round_number, distance_m=distance_m, link=link)
    # Rendered without the link too: the provider that carries it is chosen when it is sent.
    plain = _alert_text(facts, lang, style, round_number=round_number, distance_m=distance_m) if link else None
    return Message("reminder" if round_number > 0 else "ask", text, params, plain)


def unanswered(facts: AlertFacts, language: str, style: MessageStyle) -> Message:
    """To duty staff: every tier and round went unanswered."""
    return Message("unanswered", _unanswered_text(facts, language, style), _about(facts, language, style))


def taken(facts: AlertFacts, taker_name: str, language: str) -> Message:
    """To everyone else who was asked: someone has taken the alert."""
    return Message("taken", _taken_text(facts, taker_name, language), _short(facts) | {"taker": taker_name})


def ack_confirmation(facts: AlertFacts, language: str) -> Message:
    """To whoever took the alert: it is theirs, and how to close it."""
    params = _short(facts) | {"address": facts.address}
    return Message("ack_confirmation", _ack_confirmation_text(facts, language), params)


def already_taken(facts: AlertFacts, taker_name: str, language: str) -> Message:
    params = _short(facts) | {"taker": taker_name}
    return Message("already_taken", _already_taken_text(facts, taker_name, language), params)


def closed(facts: AlertFacts, state: str, language: str) -> Message:
    return Message("closed", _closed_text(facts, state, language), _short(facts) | {"state": state})


def resolved_confirmation(facts: AlertFacts, language: str) -> Message:
    return Message("resolved_confirmation", _resolved_confirmation_text(facts, language), _short(facts))


def decline_confirmation(facts: AlertFacts, language: str) -> Message:
    return Message("decline_confirmation", _decline_confirmation_text(facts, language), _short(facts))


def cancelled(facts: AlertFacts, language: str) -> Message:
    """To everyone asked: the resident cancelled (or, for a missed check-in, checked in late)."""
    template = "checked_in" if facts.kind == "missed_checkin" else "cancelled"
    return Message(template, _cancelled_text(facts, language), _short(facts))


def cancel_after_ack(facts: AlertFacts, language: str) -> Message:
    """To whoever took the alert: the resident pressed cancel (or checked in) afterwards."""
    template = "checked_in_after_ack" if facts.kind == "missed_checkin" else "cancel_after_ack"
    return Message(template, _cancel_after_ack_text(facts, language), _short(facts))


def health_report(items: list[HealthItem], language: str, style: MessageStyle) -> Message:
    """Duty staff's batched news of device health."""
    params = {"count": str(len(items)), "more": str(max(0, len(items) - HEALTH_LINES))}
    return Message("health_report", _health_report_text(items, language, style), params)


def area_digest(area_name: str, items: list[HealthItem], language: str, style: MessageStyle) -> Message:
    """An area team's daily digest of device problems."""
    params = {"area": area_name, "count": str(len(items)), "more": str(max(0, len(items) - HEALTH_LINES))}
    return Message("area_digest", _area_digest_text(area_name, items, language, style), params)


def help_answer(language: str, *, volunteer: bool = True) -> Message:
    """The answer to a reply the grammar does not know."""
    return Message("help" if volunteer else "help_family", _help_text(language, volunteer=volunteer))


def nothing_to_answer(language: str) -> Message:
    return Message("nothing_to_answer", _nothing_to_answer_text(language))


def retired(language: str) -> Message:
    """To a volunteer the directory retired, once, when ``[sms] tell_retired`` says so."""
    return Message("retired", _retired_text(language))


def availability(
    duty: str, until: datetime | None, *, now: datetime, zone: ZoneInfo, language: str, after: str
) -> Message:
    """The answer to OFF, ON, PAUSE and STATUS (``duty``: where the volunteer stands now)."""
    when = moment_text(until, now, zone, language) if until is not None else ""
    text = _availability_text(duty, until, now=now, zone=zone, language=language, after=after)
    return Message(f"availability_{duty}", text, {"until": when, "after": after})


def family_raised(facts: AlertFacts, language: str, style: MessageStyle) -> Message:
    """To a family contact who is only informed: an alert about her was raised."""
    return Message("family_raised", _family_raised_text(facts, language, style), _about(facts, language, style))


def family_ended(facts: AlertFacts, ending: str, language: str) -> Message:
    """To a family contact told of the alert: it ended (``ending``: cancelled, or the outcome)."""
    return Message("family_ended", _family_ended_text(facts, ending, language), _short(facts) | {"ending": ending})


def digest(held_bodies: list[str], language: str, limit: int) -> Message:
    """One message for everything a phone's limit held back."""
    params = {"count": str(len(held_bodies)), "limit": str(limit)}
    return Message("digest", _digest_text(held_bodies, language, limit), params)


def watchdog(loop: str, stalled_s: float, host: str, language: str) -> Message:
    """To duty staff: a loop of the monitor stopped and it is restarting."""
    params = {"loop": loop, "seconds": str(round(stalled_s)), "host": host}
    return Message("watchdog", _watchdog_text(loop, stalled_s, host, language), params)


def monitor_gone(client_id: str, instance_id: str, silent_s: float, language: str) -> Message:
    """To duty staff: a monitor has been silent past ``[mqtt] failover_s`` without having stopped."""
    params = {"client_id": client_id, "instance": instance_id, "seconds": str(round(silent_s))}
    return Message("monitor_gone", _monitor_gone_text(client_id, instance_id, silent_s, language), params)


def state_hint(facts: AlertFacts, state: str, holder: str, replies: str, language: str) -> Message:
    """The answer to a reply that does not fit the alert's state: what the state is, what can be replied
    (``replies``: "open", "holder", "on_site" or "other", the keys of ``REPLIES_NOW``)."""
    text = _state_hint_text(facts, state, holder, replies, language)
    return Message("state_hint", text, _short(facts) | {"state": state, "holder": holder})


def on_the_way(facts: AlertFacts, eta: str, language: str) -> Message:
    """To whoever took it, after OMW: noted, with the time they expect to be there (``eta``, local)."""
    return Message("on_the_way", _on_the_way_text(facts, eta, language), _short(facts) | {"eta": eta})


def on_site(facts: AlertFacts, language: str) -> Message:
    """To whoever took it, after HERE (or an arrival seen otherwise): noted, how to close it."""
    return Message("on_site", _on_site_text(facts, language), _short(facts))


def handed_back_confirmation(facts: AlertFacts, language: str) -> Message:
    return Message("handed_back_confirmation", _handed_back_confirmation_text(facts, language), _short(facts))


def arrival_reminder(facts: AlertFacts, language: str) -> Message:
    """To whoever took it, half-way to the arrival deadline."""
    params = _short(facts) | {"address": facts.address}
    return Message("arrival_reminder", _arrival_reminder_text(facts, language), params)


def asked_again(facts: AlertFacts, language: str) -> Message:
    """To whoever took it, at the arrival deadline: others are asked too; HERE still counts."""
    return Message("asked_again", _asked_again_text(facts, language), _short(facts))


def resolve_reminder(facts: AlertFacts, language: str) -> Message:
    """To whoever is on site, half-way to the resolution deadline."""
    return Message("resolve_reminder", _resolve_reminder_text(facts, language), _short(facts))


def duty_notice(
    facts: AlertFacts,
    reason: str,
    *,
    holder: str,
    since: datetime,
    language: str,
    style: MessageStyle,
    why: str = "",
) -> Message:
    """To duty staff about a taken alert (``reason``: handed_back, arrival_overdue, resolve_overdue)."""
    params = _about(facts, language, style) | {"reason": reason, "holder": holder, "why": why}
    return Message(reason, _duty_text(facts, reason, holder, since, why, language, style), params)


def progress(facts: AlertFacts, stage: str, *, helper: str, eta: str, language: str) -> Message:
    """Help on its way (``stage``: family:taken, family:arrived, resident:taken, resident:on_the_way);
    ``helper``: the first name of whoever took it; ``eta``: when they expect to be there, or ""."""
    params = _short(facts) | {"stage": stage, "helper": helper, "eta": eta}
    return Message(stage.replace(":", "_"), _progress_text(facts, stage, helper, eta, language), params)


# -- what a call says (monitor.notify.voice): spoken, so no links, codes said once -------------


def _call_text(facts: AlertFacts, language: str, style: MessageStyle, *, unanswered: bool) -> str:
    """Who needs help, where and what happened: what a call says before the keys."""
    lang = language_of(language)
    kind = KIND_NAMES[lang].get(facts.kind, facts.kind)
    happened = (
        WHAT_HAPPENED[lang].get(facts.kind, DEFAULT_HAPPENED[lang]).format(when=style.local_time(facts.raised_at))
    )
    if lang == "zh":
        lead = "无人响应的" if unanswered else ""
        return f"这里是呼援守护。{lead}{kind}：{facts.resident_name}，{facts.area_name}，{facts.address}，{happened}。"
    lead = "nobody has taken this " if unanswered else ""
    return f"This is callwatch, {lead}{kind}: {facts.resident_name}, {facts.address}, {facts.area_name}, {happened}."


def _call_keys_text(language: str) -> str:
    if language_of(language) == "zh":
        return "接手请按1，无法前往请按2，重听请按9。"
    return "Press 1 to take it. Press 2 if you cannot go. Press 9 to hear this again."


def _call_goodbye_text(language: str) -> str:
    if language_of(language) == "zh":
        return "没有收到按键，短信里有同样的内容。再见。"
    return "No key was pressed. The same is in your text messages. Goodbye."


def call_ask(facts: AlertFacts, language: str, style: MessageStyle, *, unanswered: bool = False) -> Message:
    """What a call asking someone to take an alert says, and the keys it offers."""
    text = f"{_call_text(facts, language, style, unanswered=unanswered)} {_call_keys_text(language)}"
    return Message("call_unanswered" if unanswered else "call_ask", text, _about(facts, language, style))


def call_goodbye(language: str) -> Message:
    """Said when the message was said twice and no key came."""
    return Message("call_goodbye", _call_goodbye_text(language))


def call_taken(facts: AlertFacts, language: str) -> Message:
    """Said to whoever pressed 1: it is theirs (the SMS confirmation follows with how to close it)."""
    if language_of(language) == "zh":
        text = f"谢谢，{facts.resident_name}的求助由您接手。地址：{facts.address}。详情见短信。"
    else:
        text = f"Thank you: the alert for {facts.resident_name} is yours. {facts.address}. Details follow by text."
    return Message("call_taken", text, _short(facts) | {"address": facts.address})
