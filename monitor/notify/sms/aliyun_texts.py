"""The template texts to register with Alibaba Cloud for each message callwatch sends (zh, en).

Mainland operators carry only approved templates, so each message callwatch renders as free
text for the other providers (``monitor.notify.texts``) has an approved twin here: the same
words, its variables (``${resident}``) the parameters callwatch fills for that message
(``SMS_TEMPLATES``), without the parts a fixed text cannot hold (a map link, a distance, a
phone number: operators refuse links in notification templates), and without 【】, which only
the sign name may use. docs/providers.md lists them
for submitting; the SMS sandbox shows Alibaba Cloud messages through them, as a phone would.
"""

from __future__ import annotations

import re

#: ``${name}``, a template variable
VARIABLE = re.compile(r"\$\{(\w+)\}")

_ASK_ZH = "${kind}：${resident}（${area}，${address}）${when}求助。回复“收到 ${code}”接手，“不行 ${code}”转给他人。"
_ASK_EN = "${kind}: ${resident}, ${address}, ${area}, at ${when}. Reply ACK ${code} to take it, NO ${code} to pass."

#: By message (``SMS_TEMPLATES``' names): its template text in Chinese and in English.
TEMPLATE_TEXTS: dict[str, dict[str, str]] = {
    "ask": {"zh": _ASK_ZH, "en": _ASK_EN},
    "reminder": {
        "zh": _ASK_ZH.replace("求助。", "求助（再次提醒）。"),
        "en": _ASK_EN.replace("${kind}:", "${kind} (reminder):"),
    },
    "unanswered": {
        "zh": "无人响应的${kind}：${resident}（${area}，${address}）${when}发起，所有志愿者均未接手。"
        "请立即处理，回复“收到 ${code}”接手。",
        "en": "UNANSWERED ${kind}: ${resident} (${area}, ${address}) since ${when}; no volunteer has taken it. "
        "Act now; reply ACK ${code} to take it.",
    },
    "taken": {
        "zh": "${resident}的求助（${code}）已由${taker}接手，无需回复。",
        "en": "${taker} has taken alert ${code} for ${resident}. No need to reply.",
    },
    "ack_confirmation": {
        "zh": "已确认由您接手${resident}的求助（${code}），地址：${address}。"
        "出发请回复“出发 分钟数”，到达请回复“到了”，处理完毕请回复“完成 ${code}”。",
        "en": "Thank you: alert ${code} for ${resident} is yours. ${address}. Reply OMW <minutes> when you set off, "
        "HERE when you arrive, DONE ${code} when it is resolved.",
    },
    "already_taken": {
        "zh": "${resident}的求助（${code}）已由${taker}接手，谢谢。",
        "en": "Alert ${code} for ${resident} has already been taken by ${taker}. Thank you.",
    },
    "closed": {
        "zh": "${resident}的求助（${code}）已结束，无需行动。",
        "en": "Alert ${code} for ${resident} is already ${state}. Nothing to do.",
    },
    "resolved_confirmation": {
        "zh": "${resident}的求助（${code}）已记录为处理完毕，谢谢您。",
        "en": "Alert ${code} for ${resident} is recorded as resolved. Thank you.",
    },
    "decline_confirmation": {
        "zh": "好的，${resident}的求助（${code}）正在转给其他人。",
        "en": "Understood: alert ${code} for ${resident} is going to the next people now.",
    },
    "cancelled": {
        "zh": "${resident}已取消求助（${code}），无需行动，谢谢。",
        "en": "${resident} cancelled alert ${code}. Nothing to do. Thank you.",
    },
    "checked_in": {
        "zh": "${resident}已报平安（${code}），无需上门，谢谢。",
        "en": "${resident} has checked in after all (alert ${code}). No visit needed. Thank you.",
    },
    "cancel_after_ack": {
        "zh": "${resident}按下了取消（${code}）。请仍然确认其安全后回复“完成 ${code}”。",
        "en": "${resident} pressed cancel on alert ${code}. Please still make sure they are safe, "
        "then reply DONE ${code}.",
    },
    "checked_in_after_ack": {
        "zh": "${resident}刚刚报了平安（${code}）。请仍然确认其安全后回复“完成 ${code}”。",
        "en": "${resident} has just checked in on alert ${code}. Please still make sure they are safe, "
        "then reply DONE ${code}.",
    },
    "health_report": {
        "zh": "设备状态：${count}条新提醒（短信未列出${more}条），详情见值班台。",
        "en": "Device report: ${count} new (${more} not listed here). Details on the duty console.",
    },
    "area_digest": {
        "zh": "设备日报，${area}：${count}条设备提醒（短信未列出${more}条），详情见值班台。",
        "en": "Device digest for ${area}: ${count} device problems (${more} not listed here). "
        "Details on the duty console.",
    },
    "help": {
        "zh": "未能识别您的回复。回复“收到 编号”接手求助，“完成 编号”表示处理完毕，“不行 编号”转给他人；"
        "“休息”“上班”“暂停2小时”“状态”设置值班状态。",
        "en": "Sorry, we did not understand. Reply ACK <number> to take an alert, DONE <number> when resolved, "
        "NO <number> to pass; OFF, ON, PAUSE 2h or STATUS for your availability.",
    },
    "help_family": {
        "zh": "未能识别您的回复。回复“收到 编号”接手求助，“完成 编号”表示处理完毕，“不行 编号”转给他人。",
        "en": "Sorry, we did not understand. Reply ACK <number> to take an alert, DONE <number> when resolved, "
        "NO <number> to pass.",
    },
    "nothing_to_answer": {
        "zh": "您目前没有待处理的求助，谢谢。",
        "en": "You have no open alert to answer right now. Thank you.",
    },
    "retired": {
        "zh": "您已退出本社区的求助志愿者名单，今后不会再收到求助短信。感谢您一直以来的帮助！",
        "en": "You have left this community's volunteer list: you will get no more alert SMS. "
        "Thank you for all your help!",
    },
    "availability_on_call": {
        "zh": "您目前在值班，至${until}。",
        "en": "You are on call until ${until}.",
    },
    "availability_off_schedule": {
        "zh": "您目前不在值班时间，下次值班从${until}开始。",
        "en": "You are not on call now; your schedule has you on call from ${until}.",
    },
    "availability_off": {
        "zh": "已设为休息：回复“上班”前不会再收到求助短信。",
        "en": "You are off duty: no alert SMS until you reply ON.",
    },
    "availability_paused": {
        "zh": "已暂停至${until}，此前不会收到求助短信。回复“上班”可提前恢复。",
        "en": "Paused until ${until}: no alert SMS until then. Reply ON to come back sooner.",
    },
    "family_raised": {
        "zh": "${kind}：您的家人${resident}（${address}）${when}发出${kind}，社区已通知志愿者处理，结束后会再告知您。"
        "无需回复。",
        "en": "${kind}: ${resident} (${address}) raised an alert at ${when}. The community care team has been "
        "alerted; we will tell you when it is over. No need to reply.",
    },
    "family_ended": {
        "zh": "${resident}的求助（${code}）已结束。无需回复。",
        "en": "The alert (${code}) for ${resident} is over. No need to reply.",
    },
    "digest": {
        "zh": "短信汇总：15分钟内超过${limit}条短信，另有${count}条消息已合并，详情见值班台。",
        "en": "Digest: over ${limit} SMS in 15 minutes; ${count} more messages held. Details on the duty console.",
    },
    "watchdog": {
        "zh": "系统故障：callwatch监控服务（${host}）的${loop}环节已${seconds}秒无进展，正在重启。"
        "请留意值班台，并电话确认紧急求助。",
        "en": "CALLWATCH FAULT: the monitor's ${loop} loop on ${host} made no progress for ${seconds} s and is "
        "restarting. Watch the duty console and phone residents with open SOS alerts.",
    },
    "monitor_gone": {
        "zh": "系统故障：callwatch监控实例${client_id}（${instance}）已${seconds}秒无响应，其工作已由其他实例接管。"
        "请尽快修复该主机并重启它。",
        "en": "CALLWATCH FAULT: monitor ${client_id} (${instance}) has been silent for ${seconds} s; the other "
        "monitors took over its work. Fix its host and start it again.",
    },
    "state_hint": {
        "zh": "${resident}的求助（${code}）目前由${holder}负责。回复“收到 ${code}”接手，“完成 ${code}”表示处理完毕。",
        "en": "Alert ${code} for ${resident} is ${state} (${holder}). Reply ACK ${code} to take it, "
        "DONE ${code} when it is over.",
    },
    "on_the_way": {
        "zh": "已记录您正赶往${resident}处（${code}），预计${eta}到达。到达后请回复“到了”。",
        "en": "Noted: you are on your way to ${resident} (alert ${code}), expected at ${eta}. "
        "Reply HERE when you arrive.",
    },
    "on_site": {
        "zh": "已记录您到达${resident}处（${code}）。处理完毕请回复“完成 ${code}”。",
        "en": "Noted: you are with ${resident} (alert ${code}). Reply DONE ${code} when it is over.",
    },
    "handed_back_confirmation": {
        "zh": "好的，${resident}的求助（${code}）已交还，正在转给其他人。",
        "en": "Understood: alert ${code} for ${resident} is handed back and going to others now.",
    },
    "arrival_reminder": {
        "zh": "您在赶往${resident}处（${code}，${address}）的路上吗？"
        "到达后请回复“到了”，无法前往请回复“不行 ${code}”。",
        "en": "Are you on the way to ${resident} (alert ${code}, ${address})? Reply HERE when you arrive, "
        "NO ${code} to hand it back.",
    },
    "asked_again": {
        "zh": "${resident}的求助（${code}）已超时无人到达，已同时请其他人前往。如您仍在路上，到达后请回复“到了”。",
        "en": "Nobody has arrived at ${resident}'s (alert ${code}) in time, so others are asked too. "
        "If you are still going, reply HERE when you arrive.",
    },
    "resolve_reminder": {
        "zh": "${resident}的求助（${code}）仍未结束。处理完毕请回复“完成 ${code}”。",
        "en": "Alert ${code} for ${resident} is still open. Reply DONE ${code} when it is over.",
    },
    "handed_back": {
        "zh": "已交还的${kind}：${resident}（${area}，${address}）${holder}已交还，正在转给其他人。编号${code}。",
        "en": "HANDED BACK ${kind} ${code}: ${resident} (${area}, ${address}): ${holder} handed it back; "
        "the next people are being asked.",
    },
    "arrival_overdue": {
        "zh": "超时的${kind}：${resident}（${area}，${address}）${holder}接手后至今无人到达，"
        "正在转给其他人。编号${code}。",
        "en": "OVERDUE ${kind} ${code}: ${resident} (${area}, ${address}): taken by ${holder}, nobody on site yet; "
        "the next people are being asked.",
    },
    "resolve_overdue": {
        "zh": "超时的${kind}：${resident}（${area}，${address}）${holder}在现场，至今未结束，请跟进。编号${code}。",
        "en": "OVERDUE ${kind} ${code}: ${resident} (${area}, ${address}): ${holder} on site and not resolved yet; "
        "please check.",
    },
    "family_taken": {
        "zh": "${resident}的求助（${code}）已由${helper}接手，正在前往。无需回复。",
        "en": "${helper} has taken the alert (${code}) for ${resident} and is going to help. No need to reply.",
    },
    "family_arrived": {
        "zh": "${helper}已到达${resident}身边（${code}）。无需回复。",
        "en": "${helper} is with ${resident} now (alert ${code}). No need to reply.",
    },
    "resident_taken": {
        "zh": "${helper}已收到您的求助，正在赶来。无需回复。",
        "en": "${helper} has your call for help and is coming. No need to reply.",
    },
    "resident_on_the_way": {
        "zh": "${helper}正在赶来，预计${eta}到达。无需回复。",
        "en": "${helper} is on the way to you, expected at ${eta}. No need to reply.",
    },
}


def variables(text: str) -> list[str]:
    """A template text's variables, in order, each once."""
    return list(dict.fromkeys(VARIABLE.findall(text)))


def rendered(text: str, params: dict[str, str]) -> str:
    """The text a phone shows for a template filled with ``params`` (a missing one as ``-``)."""
    return VARIABLE.sub(lambda found: params.get(found.group(1), "-"), text)
