"""The directory pages: list and search, create and edit (administrators), CSV export, and
import from CSV files and .xlsx workbooks (with a dry run).

Saving goes through the same upsert as `callwatch import` (``import_directory``), so a
device added here is subscribed to by every running monitor, as one added by file. Retiring a
volunteer, resident, device, area or policy (after a confirmation) follows the file's rules too
(``retire_entry``, ``monitor.directory.retire``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.actions.alert_actions import Taker
from monitor.core.effects import Effects
from monitor.core.errors import UserError
from monitor.directory import model as file_model
from monitor.directory.erase import Erasure, erase_person
from monitor.directory.retire import HandBack, retirement_of_one
from monitor.directory.sync import ImportSummary, import_directory, retire_entry
from monitor.oncall.family import ContactValues, contact_json, family_of, replace_family
from monitor.store.models import Alert, Resident, ResidentCard, Volunteer
from monitor.users import audit
from monitor.users.identity import Principal
from monitor.users.scope import manages_existing, outside_scope
from monitor.web.auth import NotAllowed, require_user
from monitor.web.forms import directory_forms as forms
from monitor.web.refusals import PageNotFound
from monitor.web.services import context_of, services_of

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
LIST_LIMIT = 1000
#: The sections whose entries can be retired here: all of them
RETIRABLE = frozenset(forms.SECTIONS)
#: The sections whose people can be erased here, and what ``erase_person`` calls them
ERASABLE = {"residents": "resident", "volunteers": "volunteer"}


def _section(request: Request) -> forms.Section:
    section = forms.SECTIONS.get(request.path_params["section"])
    if section is None:
        raise PageNotFound
    return section


async def scoped_row(session: AsyncSession, principal: Principal, section: forms.Section, entry_id: str) -> Any:
    """The section's entry with this id; ``PageNotFound`` when there is none in the asker's scope."""
    table: Any = section.table
    row = await session.scalar(select(table).where(table.id == entry_id, principal.scope.section(section.key)))
    if row is None:
        raise PageNotFound
    return row


async def managed_row(session: AsyncSession, principal: Principal, section: forms.Section, entry_id: str) -> Any:
    """The entry, when the asker may change it (retire, erase): in their scope (``PageNotFound``
    otherwise) and theirs to manage (``NotAllowed`` when it belongs to another organisation)."""
    row = await scoped_row(session, principal, section, entry_id)
    if not await manages_existing(session, principal.scope, section.key, entry_id):
        raise NotAllowed("This belongs to another organisation: its administrators manage it.")
    return row


async def scope_problems(session: AsyncSession, principal: Principal, entries: list[file_model.Entry]) -> list[str]:
    """Why the asker may not save these entries (``outside_scope``), one sentence per entry refused."""
    refusals = [(entry.id, await outside_scope(session, principal.scope, entry)) for entry in entries]
    return [f"{entry_id}: {refusal}" for entry_id, refusal in refusals if refusal is not None]


async def entry_rows(
    request: Request, principal: Principal, section: forms.Section, query: str
) -> list[dict[str, Any]]:
    """The entries in the asker's scope matching ``query`` (all when empty), as directory-file
    values plus status."""
    context = context_of(request)
    table: Any = section.table
    statement = select(table).where(principal.scope.section(section.key)).order_by(table.id).limit(LIST_LIMIT)
    if query:
        needle = f"%{query.lower()}%"
        statement = statement.where(
            or_(*(func.lower(getattr(table, column)).like(needle) for column in section.searched))
        )
    async with context.database.read() as session:
        return [await entry_json(session, section, row) for row in (await session.scalars(statement)).all()]


async def entry_json(session: AsyncSession, section: forms.Section, row: Any) -> dict[str, Any]:
    values: dict[str, Any] = await forms.raw_values(session, section, row)
    if section.key == "devices":
        values |= {
            "online": row.online,
            "battery": row.battery,
            "last_seen_at": row.last_seen_at.isoformat() if row.last_seen_at else None,
            "signal": row.signal,
        }
    if section.key in RETIRABLE:
        values["active"] = row.active
    return values


async def list_page(
    request: Request,
    *,
    problems: list[str] | None = None,
    summary: list[str] | None = None,
    dry_run: bool = False,
    status_code: int = 200,
) -> Response:
    principal = await require_user(request)
    section = _section(request)
    query = request.query_params.get("q", "").strip()[:100]
    return services_of(request).renderer.render(
        request,
        "directory_list.html",
        principal,
        status_code=status_code,
        sections=forms.SECTIONS.values(),
        section=section,
        rows=await entry_rows(request, principal, section, query),
        q=query,
        saved=request.query_params.get("saved"),
        retired=request.query_params.get("retired"),
        erased=request.query_params.get("erased"),
        retirable=RETIRABLE,
        problems=problems or [],
        summary=summary or [],
        dry_run=dry_run,
        limit=LIST_LIMIT,
    )


async def export_csv(request: Request) -> Response:
    principal = await require_user(request)
    section = _section(request)
    context = context_of(request)
    async with context.database.read() as session:
        text = await forms.export_csv(session, section, principal.scope.section(section.key))
    async with context.database.write() as session:
        audit.record(
            session, actor=principal.actor, action="directory_export", target=section.key, now=context.clock.now()
        )
    return Response(
        "\ufeff" + text,  # a BOM, so spreadsheet programs read the Chinese names right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="callwatch-{section.key}.csv"'},
    )


async def import_sheet(request: Request) -> Response:
    """A CSV file or .xlsx workbook of one section, imported as ``callwatch import`` does: checked
    first (every rejected row named, nothing imported), with a dry run on request; ``prune``
    retires the section's entries the file no longer lists, ``reassign`` hands back the alerts
    of volunteers it retires."""
    principal = await require_user(request, admin=True)
    section = _section(request)
    context = context_of(request)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return await list_page(request, problems=["choose a CSV or Excel (.xlsx) file to import"], status_code=400)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return await list_page(request, problems=["the file is larger than 5 MB; split it"], status_code=400)
    source = upload.filename or "the file"
    dry_run = bool(form.get("dry_run"))
    try:
        directory = await forms.spreadsheet_directory(context.database, section, data, source)
        async with context.database.read() as session:
            refused = await scope_problems(session, principal, list(getattr(directory, section.key)))
        if form.get("prune") and not principal.scope.service_wide:
            refused.append("only service-wide administrators retire what a file leaves out; import without it")
        if refused:
            return await list_page(request, problems=refused, status_code=400)
        result = await import_directory(
            context.database,
            directory,
            prune={section.key} if form.get("prune") else (),
            hand_back=_hand_back(request) if form.get("reassign") else None,
            after_commit=context.after_commit,
            tell_retired=context.settings.sms.tell_retired,
            dry_run=dry_run,
        )
    except UserError as refused:
        return await list_page(request, problems=str(refused).splitlines(), status_code=400)
    if not dry_run:
        async with context.database.write() as session:
            audit.record(
                session,
                actor=principal.actor,
                action="directory_import",
                target=section.key,
                now=context.clock.now(),
                detail=f"{source}: " + "; ".join(result.lines()),
            )
    return await list_page(request, summary=result.lines(), dry_run=dry_run)


def _directory(section: forms.Section, entries: list[file_model.Entry]) -> file_model.Directory:
    return file_model.Directory.model_validate({section.key: [entry.model_dump() for entry in entries]})


async def _form_page(
    request: Request,
    principal: Principal,
    section: forms.Section,
    raw: dict[str, str],
    *,
    creating: bool,
    problems: forms.FormProblems | None = None,
    status_code: int = 200,
) -> Response:
    async with context_of(request).database.read() as session:
        options = await forms.choices(session, principal.scope)
    return services_of(request).renderer.render(
        request,
        "directory_form.html",
        principal,
        status_code=status_code,
        sections=forms.SECTIONS.values(),
        section=section,
        values=raw,
        creating=creating,
        problems=problems or forms.FormProblems(),
        options=options,
        retirable=RETIRABLE,
        erasable=ERASABLE,
    )


async def new_page(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    return await _form_page(request, principal, _section(request), {}, creating=True)


async def edit_page(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    section = _section(request)
    entry_id = request.path_params["entry_id"]
    async with context_of(request).database.read() as session:
        row = await scoped_row(session, principal, section, entry_id)
        raw = await forms.raw_values(session, section, row)
        if section.key == "residents":
            raw["emergency_contacts"] = forms.card_text(
                contact_json(contact) for contact in await family_of(session, entry_id)
            )
            card = await session.get(ResidentCard, entry_id)
            if card is not None:
                raw["camera_url"] = card.camera_url or ""
                raw["camera_consent"] = "on" if card.camera_consent else ""
                raw["key_safe_code"] = card.key_safe_code or ""
    return await _form_page(request, principal, section, raw, creating=False)


async def create(request: Request) -> Response:
    return await _save(request, creating=True)


async def update(request: Request) -> Response:
    return await _save(request, creating=False)


async def _save(request: Request, *, creating: bool) -> Response:
    principal = await require_user(request, admin=True)
    section = _section(request)
    context = context_of(request)
    form = await request.form()
    raw = {field.name: str(form.get(field.name, "")) for field in section.fields}
    if not creating:
        raw["id"] = request.path_params["entry_id"]
        async with context.database.read() as session:
            await scoped_row(session, principal, section, raw["id"])
    entry, problems = forms.parse_entry(section, raw)
    card = forms.parse_card(raw, problems) if section.key == "residents" else None
    if entry is not None:
        async with context.database.read() as session:
            for field, messages in (
                await forms.reference_problems(session, section, [entry], creating=creating)
            ).items():
                for message in messages:
                    problems.add(field, message)
            refusal = await outside_scope(session, principal.scope, entry)
            if refusal is not None:
                problems.add("", refusal)
    if entry is None or problems:
        return await _form_page(request, principal, section, raw, creating=creating, problems=problems, status_code=400)
    await save_entry(request, principal, section, entry, card, creating=creating)
    return RedirectResponse(f"/directory/{section.key}?saved={entry.id}", status_code=303)


async def save_entry(
    request: Request,
    principal: Principal,
    section: forms.Section,
    entry: file_model.Entry,
    card: forms.CardValues | None,
    *,
    creating: bool,
) -> None:
    """Upsert a checked entry (and a resident's card) and record who did it."""
    context = context_of(request)
    await import_directory(context.database, _directory(section, [entry]))
    now = context.clock.now()
    async with context.database.write() as session:
        if card is not None:
            await _save_card(session, entry.id, card, principal, now)
        audit.record(
            session,
            actor=principal.actor,
            action="directory_create" if creating else "directory_update",
            target=f"{section.key}:{entry.id}",
            now=now,
            detail=entry.model_dump_json(),
        )


async def _save_card(
    session: AsyncSession, resident_id: str, card: forms.CardValues, principal: Principal, now: datetime
) -> None:
    resident = await session.get(Resident, resident_id)
    language = resident.language if resident is not None else "zh"
    await replace_family(
        session,
        resident_id,
        [ContactValues(c.name, c.phone, c.language or language, c.relationship) for c in card.contacts],
    )
    row = await session.get(ResidentCard, resident_id)
    if row is None:
        row = ResidentCard(resident_id=resident_id)
        session.add(row)
    row.camera_url = card.camera_url
    row.camera_consent = card.camera_consent
    row.key_safe_code = card.key_safe_code
    row.updated_at = now
    row.updated_by = principal.actor


async def retire(request: Request, principal: Principal, section: forms.Section, *, reassign: bool) -> ImportSummary:
    """Retire the request's entry of ``section`` by the directory's rules and record who did it;
    a UserError (nothing changed) while an alert stands in the way. With ``reassign``, the alerts a
    volunteer holds go back to escalation, as if they had replied NO."""
    context = context_of(request)
    entry_id = request.path_params["entry_id"]
    if section.key not in RETIRABLE:
        raise PageNotFound
    async with context.database.read() as session:
        await managed_row(session, principal, section, entry_id)
    summary = await retire_entry(
        context.database,
        section.key,
        entry_id,
        hand_back=_hand_back(request) if reassign else None,
        after_commit=context.after_commit,
        tell_retired=context.settings.sms.tell_retired,
    )
    if summary is None:
        raise PageNotFound
    if summary.changed_anything:
        async with context.database.write() as session:
            audit.record(
                session,
                actor=principal.actor,
                action="directory_retire",
                target=f"{section.key}:{entry_id}",
                now=context.clock.now(),
                detail="; ".join(summary.retirement_lines()),
            )
    return summary


def _hand_back(request: Request) -> HandBack:
    """A retired volunteer's alert goes back to escalation, as if they had replied NO."""
    context = context_of(request)

    async def hand_back(session: AsyncSession, effects: Effects, alert: Alert, volunteer: Volunteer) -> None:
        taker = Taker.volunteer_taker(volunteer)
        await context.actions.hand_back(session, effects, alert, taker=taker, now=context.clock.now(), reason="retired")

    return hand_back


class Unconfirmed(Exception):
    """The id typed (or repeated in the API request) is not the person's: nothing was erased."""


async def erase(request: Request, principal: Principal, section: forms.Section, confirmation: str) -> Erasure:
    """Erase the request's resident or volunteer once ``confirmation`` repeats their id, as
    ``callwatch erase`` does, and record who erased whom (without what was erased). PageNotFound
    when there is no such person, Unconfirmed, or a UserError while an alert of theirs is not ended."""
    entry_id = request.path_params["entry_id"]
    if section.key not in ERASABLE:
        raise PageNotFound
    context = context_of(request)
    async with context.database.read() as session:
        await managed_row(session, principal, section, entry_id)
    if confirmation.strip() != entry_id:
        raise Unconfirmed
    async with context.database.write() as session:
        erased = await erase_person(session, ERASABLE[section.key], entry_id)
        audit.record(
            session,
            actor=principal.actor,
            action="erase",
            target=f"{erased.kind}:{erased.person_id}",
            now=context.clock.now(),
            detail=f"{erased.cells} text cells overwritten",
        )
    return erased


@dataclass(frozen=True)
class Confirmation:
    """A directory action with a page of its own, carried out once confirmed there: retiring or erasing."""

    template: str
    #: the list's query parameter naming the entry once done, and the word for it ("retired")
    done: str
    sections: Collection[str]
    #: what the page shows about the entry (described by section, for retiring); None: no such entry
    preview: Callable[[AsyncSession, forms.Section, str], Awaitable[dict[str, list[str]] | None]]
    #: carry it out from the posted form: Unconfirmed or a UserError when it is not done
    act: Callable[[Request, Principal, forms.Section, FormData], Awaitable[object]]


async def _retiring_preview(
    session: AsyncSession, section: forms.Section, entry_id: str
) -> dict[str, list[str]] | None:
    return await retirement_of_one(session, section.key, entry_id)


async def _erasing_preview(session: AsyncSession, section: forms.Section, entry_id: str) -> dict[str, list[str]] | None:
    return None if await session.get(section.table, entry_id) is None else {}


async def _retire_from_form(request: Request, principal: Principal, section: forms.Section, form: FormData) -> object:
    return await retire(request, principal, section, reassign=bool(form.get("reassign")))


async def _erase_from_form(request: Request, principal: Principal, section: forms.Section, form: FormData) -> object:
    return await erase(request, principal, section, str(form.get("typed_id", "")))


RETIRING = Confirmation("directory_retire.html", "retired", RETIRABLE, _retiring_preview, _retire_from_form)
ERASING = Confirmation("directory_erase.html", "erased", ERASABLE, _erasing_preview, _erase_from_form)


async def _confirmation_page(
    request: Request, confirmation: Confirmation, *, problem: str = "", status_code: int = 200
) -> Response:
    """The page asking to confirm: what it does (for retiring: who and what goes), and why it was
    not done when ``problem`` says so."""
    principal = await require_user(request, admin=True)
    section = _section(request)
    entry_id = request.path_params["entry_id"]
    if section.key not in confirmation.sections:
        raise PageNotFound
    async with context_of(request).database.read() as session:
        await managed_row(session, principal, section, entry_id)
        preview = await confirmation.preview(session, section, entry_id)
    if preview is None:
        raise PageNotFound
    return services_of(request).renderer.render(
        request,
        confirmation.template,
        principal,
        status_code=status_code,
        sections=forms.SECTIONS.values(),
        section=section,
        entry_id=entry_id,
        leaving=preview,
        problem=problem,
    )


async def _confirmed(request: Request, confirmation: Confirmation) -> Response:
    """Carry out the confirmed action and go back to the list; else the page again, saying why not."""
    principal = await require_user(request, admin=True)
    section = _section(request)
    entry_id = request.path_params["entry_id"]
    if section.key not in confirmation.sections:
        raise PageNotFound
    try:
        await confirmation.act(request, principal, section, await request.form())
    except Unconfirmed:
        problem = f"type {entry_id} to confirm; nothing was {confirmation.done}"
        return await _confirmation_page(request, confirmation, problem=problem, status_code=400)
    except UserError as refused:
        return await _confirmation_page(request, confirmation, problem=str(refused), status_code=409)
    return RedirectResponse(f"/directory/{section.key}?{confirmation.done}={entry_id}", status_code=303)


async def retire_page(request: Request) -> Response:
    """What retiring this entry retires, and a button to confirm it."""
    return await _confirmation_page(request, RETIRING)


async def confirm_retire(request: Request) -> Response:
    return await _confirmed(request, RETIRING)


async def erase_page(request: Request) -> Response:
    """Erasing a person: what it does, and their id to type as confirmation."""
    return await _confirmation_page(request, ERASING)


async def confirm_erase(request: Request) -> Response:
    """Erase once the id is typed."""
    return await _confirmed(request, ERASING)
