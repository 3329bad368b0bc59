"""HTML pages from Jinja templates: autoescaped, in the user's language and time zone."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.users.identity import Principal
from monitor.web.i18n import LANGUAGES, translator

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"


def _static_version() -> str:
    """Changes whenever a static file does, so browsers never run a stale script after an upgrade."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    if seconds is None:
        return "–"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Renderer:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        version = _static_version()
        self.environment.globals["static"] = lambda path: f"/static/{path}?v={version}"
        self.environment.filters["local"] = self.local
        self.environment.filters["local_time"] = lambda moment: self.local(moment, "%H:%M:%S")
        self.environment.filters["local_iso"] = lambda text: self.local(datetime.fromisoformat(text)) if text else ""
        self.environment.filters["epoch_ms"] = lambda moment: int(moment.timestamp() * 1000) if moment else ""
        self.environment.filters["duration"] = duration

    def local(self, moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
        return moment.astimezone(self.zone).strftime(pattern) if moment is not None else ""

    def render(
        self,
        request: Request,
        template: str,
        principal: Principal | None,
        *,
        status_code: int = 200,
        language: str | None = None,
        **values: Any,
    ) -> HTMLResponse:
        chosen = language or (principal.language if principal else None) or language_of(request)
        translate = translator(chosen)
        page = self.environment.get_template(template).render(
            request=request,
            user=principal,
            language=chosen,
            _=translate,
            csrf_token=principal.csrf_token if principal and principal.csrf_token else "",
            path=request.url.path,
            **values,
        )
        return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})

    def render_fragment(self, template: str, language: str, **values: Any) -> str:
        return self.environment.get_template(template).render(_=translator(language), language=language, **values)


def language_of(request: Request) -> str:
    """The language asked for by ``?lang=``, else the browser's preference; English otherwise."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    preferred = request.headers.get("Accept-Language", "").lower()
    return "zh" if preferred.startswith("zh") else "en"


Translate = Callable[..., str]
