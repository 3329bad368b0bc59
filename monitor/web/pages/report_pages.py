"""The reports page, its chart and its CSV: a period (local days) and optionally one area."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from monitor.reports.charts import render_chart
from monitor.reports.export import report_csv
from monitor.reports.figures import Report, build_report
from monitor.reports.period import Period, PeriodError, last_days, make_period
from monitor.store.models import Area, Organisation
from monitor.users.identity import Principal
from monitor.web.auth import require_user
from monitor.web.refusals import PageNotFound
from monitor.web.services import context_of, services_of

DEFAULT_DAYS = 7


def period_of(request: Request) -> Period:
    context = context_of(request)
    zone = ZoneInfo(context.settings.service.timezone)
    start, end = request.query_params.get("from", ""), request.query_params.get("to", "")
    if not start or not end:
        return last_days(context.clock.now(), zone, DEFAULT_DAYS)
    return make_period(start, end, zone)


async def scoped_report(request: Request, principal: Principal, period: Period) -> Report:
    """The report the request asks for (``?area=``, ``?organisation=``), within the asker's scope:
    an area or organisation outside it is not there (404); asking for neither is the whole
    scope: an organisation's staff get their organisation's, only service-wide staff the whole
    service's, staff of a list of areas theirs."""
    scope = principal.scope
    area = request.query_params.get("area") or None
    organisation = request.query_params.get("organisation") or None
    if area is not None and not scope.sees_area(area):
        raise PageNotFound
    if organisation is not None and not (scope.service_wide or organisation == scope.organisation):
        raise PageNotFound
    within = None
    if area is None and organisation is None and not scope.service_wide:
        organisation = scope.organisation
        within = scope.areas if organisation is None else None
    async with context_of(request).database.read() as session:
        if organisation is not None and await session.get(Organisation, organisation) is None:
            raise PageNotFound
        return await build_report(session, period, area, organisation_id=organisation, within_areas=within)


async def report_page(request: Request) -> Response:
    principal = await require_user(request)
    context = context_of(request)
    error = None
    try:
        period = period_of(request)
    except PeriodError as exc:
        error = str(exc)
        period = last_days(context.clock.now(), ZoneInfo(context.settings.service.timezone), DEFAULT_DAYS)
    report = await scoped_report(request, principal, period)
    scope = principal.scope
    async with context.database.read() as session:
        areas = (await session.execute(select(Area.id, Area.name).where(scope.area_rows()).order_by(Area.name))).all()
        organisations = (
            await session.execute(
                select(Organisation.id, Organisation.name).where(scope.organisations()).order_by(Organisation.name)
            )
        ).all()
    last_day = period.local_days()[-1]
    return services_of(request).renderer.render(
        request,
        "reports.html",
        principal,
        status_code=400 if error else 200,
        report=report,
        error=error,
        areas=areas,
        organisations=organisations,
        whole_service=scope.service_wide,
        start=period.start.astimezone(period.zone).date().isoformat(),
        end=last_day.isoformat(),
        query=str(request.url.query),
    )


async def _asked_report(request: Request) -> tuple[Period, Report] | Response:
    """The report for the period the request asks for, or the answer refusing a period that is not one."""
    principal = await require_user(request)
    try:
        period = period_of(request)
    except PeriodError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    return period, await scoped_report(request, principal, period)


async def chart(request: Request) -> Response:
    asked = await _asked_report(request)
    if isinstance(asked, Response):
        return asked
    _, report = asked
    # matplotlib is CPU work: keep it off the event loop the monitor's other loops share.
    svg = await asyncio.to_thread(render_chart, report, "svg")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


async def export_csv(request: Request) -> Response:
    asked = await _asked_report(request)
    if isinstance(asked, Response):
        return asked
    period, report = asked
    name = f"callwatch-report-{period.local_days()[0]}-{period.local_days()[-1]}.csv"
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
