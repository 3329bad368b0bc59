"""The responder page, ``/r/<token>``: one alert for one person asked about it, from the link in
their SMS, without signing in (the unguessable link is the key; ``monitor.notify.responder_links``).

What they need at a glance: who, where (address, a map with the resident's position and their
own if they share it, a link for the phone's map app), what happened and when, how long the
resident has waited, who else was asked; and big buttons: I'll go (with ETA choices), can't go,
I'm here, done (with the outcome). They act through the same door as an SMS reply
(``monitor.actions.responses``). Health notes, the key safe's code and the family's phone are
shown only to whoever took the alert, and each time they are is written in the alert's log,
as is every use of the page. Once someone else has it, the page says so and shows nothing
personal. The buttons are plain forms carrying the link's own CSRF token; the page reloads
itself while the alert is open. An unknown or dead token gets a plain 404.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from monitor.actions.alert_actions import Taker
from monitor.actions.feedback import first_name
from monitor.actions.reply_grammar import Intent, Reply
from monitor.alerts.lifecycle import TAKEN, AlertState, Outcome
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects, commit_then_apply
from monitor.notify.requests import ASKING
from monitor.notify.responder_links import open_link
from monitor.oncall.family import family_of
from monitor.store.models import (
    Alert,
    Area,
    FamilyContact,
    Notification,
    Resident,
    ResidentCard,
    ResponderLink,
    Volunteer,
    VolunteerPhone,
)
from monitor.web.services import context_of, services_of

#: The ETA choices of "I'll go", in minutes.
ETA_CHOICES = (5, 10, 15, 30)
#: How often the open page reloads itself (seconds).
REFRESH_S = 60
#: The outcomes a responder may close an alert with.
RESPONDER_OUTCOMES = (
    Outcome.VOLUNTEER_VISITED,
    Outcome.AMBULANCE_CALLED,
    Outcome.FALSE_ALARM,
    Outcome.OTHER,
)
#: What each button says, as the SMS grammar would.
BUTTONS: dict[str, Intent] = {
    "take": Intent.ACK,
    "go": Intent.GO,
    "cannot": Intent.DECLINE,
    "here": Intent.HERE,
    "done": Intent.DONE,
}


def not_found() -> Response:
    """What an unknown or dead token gets: nothing that tells it from any other missing page."""
    return PlainTextResponse("Not Found", status_code=404)


@dataclass(frozen=True, slots=True)
class Details:
    """What only whoever took the alert sees."""

    notes: str
    key_safe_code: str | None
    family: list[tuple[str, str, str]]  # name, relationship, phone


@dataclass(frozen=True, slots=True)
class ResponderView:
    """Everything the page shows one person about one alert."""

    token: str
    csrf: str
    language: str
    person: str
    alert: Alert
    #: they hold it (took it, on the way, there)
    mine: bool
    #: someone else holds it or held it to the end: their first name; nothing personal is shown then
    taken_by_other: str | None
    resident_name: str = ""
    address: str = ""
    area: str = ""
    resident_phone: str | None = None
    position: tuple[float, float, float | None] | None = None
    own_position: tuple[float, float] | None = None
    others_asked: list[str] = field(default_factory=list)
    details: Details | None = None

    @property
    def open(self) -> bool:
        return self.alert.state == AlertState.OPEN

    @property
    def closed(self) -> bool:
        return self.alert.state in (AlertState.RESOLVED, AlertState.CANCELLED)


async def responder_page(request: Request) -> Response:
    token = str(request.path_params["token"])
    context = context_of(request)
    now = context.clock.now()

    async def work(session: AsyncSession, effects: Effects) -> ResponderView | None:
        opened = await open_link(session, token, now)
        if opened is None:
            return None
        link, alert = opened
        view = await _view(session, link, alert)
        actor = _actor(link)
        log_entry(
            session, alert.id, at=now, kind="responder_page", detail=f"{view.person} opened their page", actor=actor
        )
        if view.details is not None:
            log_entry(
                session,
                alert.id,
                at=now,
                kind="details_viewed",
                detail=f"{view.person} was shown the health notes, key safe code and family contacts",
                actor=actor,
            )
        effects.changed_alert_ids.add(alert.id)
        return view

    view = await commit_then_apply(context.database, context.after_commit, work)
    if view is None:
        return not_found()
    web = context.settings.web
    return services_of(request).renderer.render(
        request,
        "responder.html",
        None,
        language=view.language,
        view=view,
        eta_choices=ETA_CHOICES,
        outcomes=[outcome.value for outcome in RESPONDER_OUTCOMES],
        refresh_s=REFRESH_S,
        waited_s=waited_s(view, now),
        tile_url=web.map_tile_url,
        attribution=web.map_attribution,
        map_link=context.settings.service.map_url_template,
        done=request.query_params.get("done"),
    )


async def responder_act(request: Request) -> Response:
    """A button: checked against the link's CSRF token, then through the same door as an SMS reply."""
    token = str(request.path_params["token"])
    context = context_of(request)
    form = await request.form()
    said = BUTTONS.get(str(form.get("action", "")))
    now = context.clock.now()

    async def work(session: AsyncSession, effects: Effects) -> str | None:
        opened = await open_link(session, token, now)
        if opened is None:
            return None
        link, alert = opened
        if not hmac.compare_digest(str(form.get("csrf_token", "")), link.csrf):
            return "forbidden"
        taker = await _taker(session, link, alert)
        if said is None or taker is None:
            return "refused"
        minutes = _minutes(form.get("minutes"))
        outcome = _outcome(form.get("outcome"))
        reply = Reply(said, minutes=minutes, reason=str(form.get("reason", ""))[:200])
        result, _ = await context.replies.responses.respond(
            session,
            effects,
            taker,
            reply,
            alert,
            now,
            said="on the responder page",
            key=f"page:{link.id}:{said}:{now.timestamp():.3f}",
            outcome=outcome,
        )
        log_entry(
            session,
            alert.id,
            at=now,
            kind="responder_page",
            detail=f"{taker.name} pressed {said.name} on their page: {result.value}",
            actor=taker.actor,
        )
        effects.changed_alert_ids.add(alert.id)
        return result.value

    result = await commit_then_apply(context.database, context.after_commit, work)
    if result is None:
        return not_found()
    if result == "forbidden":
        return PlainTextResponse("This form is out of date; open the link from your SMS again.", status_code=403)
    return RedirectResponse(f"/r/{token}?done={result}", status_code=303)


async def _view(session: AsyncSession, link: ResponderLink, alert: Alert) -> ResponderView:
    volunteer = await session.get(Volunteer, link.volunteer_id) if link.volunteer_id else None
    taker = await _taker(session, link, alert)
    person = taker.name if taker is not None else link.phone
    language = (taker.language if taker is not None else None) or "zh"
    mine = taker is not None and alert.state in TAKEN and alert.acknowledged_by == taker.by
    holder = alert.acknowledged_by or alert.resolved_by
    taken_by_other = None
    if holder is not None and (taker is None or holder != taker.by) and alert.state != AlertState.OPEN:
        taken_by_other = first_name(await _name_of(session, holder))
    view = ResponderView(link.token, link.csrf, language, person, alert, mine, taken_by_other)
    if taken_by_other is not None:
        return view
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    area = await session.get(Area, alert.area_id) if alert.area_id else None
    position: tuple[float, float, float | None] | None = None
    if alert.lat is not None and alert.lon is not None:
        position = (alert.lat, alert.lon, alert.accuracy_m)
    elif resident is not None and resident.home_lat is not None and resident.home_lon is not None:
        position = (resident.home_lat, resident.home_lon, None)
    return ResponderView(
        link.token,
        link.csrf,
        language,
        person,
        alert,
        mine,
        None,
        resident_name=resident.name if resident else "",
        address=resident.address if resident else "",
        area=area.name if area else "",
        resident_phone=resident.phone if resident else None,
        position=position,
        own_position=await _own_position(session, volunteer),
        others_asked=await _others_asked(session, alert, link.phone),
        details=await _details(session, resident) if mine and resident is not None else None,
    )


async def _taker(session: AsyncSession, link: ResponderLink, alert: Alert) -> Taker | None:
    """Who acts through this link: the volunteer it was made for, else the resident's family contact with its phone."""
    if link.volunteer_id is not None:
        volunteer = await session.get(Volunteer, link.volunteer_id)
        return Taker.volunteer_taker(volunteer) if volunteer is not None and volunteer.active else None
    contact = await session.scalar(
        select(FamilyContact).where(FamilyContact.phone == link.phone, FamilyContact.resident_id == alert.resident_id)
    )
    return Taker.family_taker(contact) if contact is not None else None


def _actor(link: ResponderLink) -> str:
    return f"volunteer:{link.volunteer_id}" if link.volunteer_id else f"phone:{link.phone}"


async def _name_of(session: AsyncSession, by: str) -> str:
    if by.startswith("family:") and by[7:].isdigit():
        contact = await session.get(FamilyContact, int(by[7:]))
        return contact.name if contact else "?"
    if by.startswith("user:"):
        return by.removeprefix("user:")
    volunteer = await session.get(Volunteer, by)
    return volunteer.name if volunteer else by


async def _own_position(session: AsyncSession, volunteer: Volunteer | None) -> tuple[float, float] | None:
    """The volunteer's own phone position, when they agreed to share it."""
    if volunteer is None or not volunteer.share_location:
        return None
    phone = await session.scalar(
        select(VolunteerPhone)
        .where(VolunteerPhone.volunteer_id == volunteer.id, VolunteerPhone.last_lat.is_not(None))
        .order_by(VolunteerPhone.last_fix_at.desc())
        .limit(1)
    )
    if phone is None or phone.last_lat is None or phone.last_lon is None:
        return None
    return phone.last_lat, phone.last_lon


async def _others_asked(session: AsyncSession, alert: Alert, phone: str) -> list[str]:
    """The first names of the others asked about the alert, in the order they were asked."""
    rows = (
        await session.execute(
            select(Notification.phone, Volunteer.name)
            .outerjoin(Volunteer, Volunteer.id == Notification.volunteer_id)
            .where(Notification.alert_id == alert.id, Notification.purpose.in_(ASKING), Notification.phone != phone)
            .order_by(Notification.id)
        )
    ).all()
    names: list[str] = []
    for _, name in rows:
        shown = first_name(name) if name else "?"
        if shown not in names:
            names.append(shown)
    return names


async def _details(session: AsyncSession, resident: Resident) -> Details:
    card = await session.get(ResidentCard, resident.id)
    family = [(contact.name, contact.relationship, contact.phone) for contact in await family_of(session, resident.id)]
    return Details(resident.notes, card.key_safe_code if card is not None else None, family)


def _minutes(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and 0 < int(text) <= 600 else None


def _outcome(value: object) -> Outcome:
    try:
        chosen = Outcome(str(value))
    except ValueError:
        return Outcome.VOLUNTEER_VISITED
    return chosen if chosen in RESPONDER_OUTCOMES else Outcome.VOLUNTEER_VISITED


def waited_s(view: ResponderView, now: datetime) -> float:
    """How long the resident has waited for someone to take it (or waited in all, once taken)."""
    until = view.alert.acknowledged_at or view.alert.resolved_at or view.alert.cancelled_at or now
    return (until - view.alert.raised_at).total_seconds()
