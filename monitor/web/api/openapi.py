"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from monitor.alerts.lifecycle import AlertState, Outcome
from monitor.oncall.standing import Duty

SECTIONS = ["residents", "devices", "volunteers", "areas", "policies"]


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


ERRORS = {
    "401": {"description": "no valid session or token"},
    "403": {"description": "not allowed for this role, or missing CSRF token on a session"},
}
ALERT_ID = {"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SECTION = {"name": "section", "in": "path", "required": True, "schema": {"type": "string", "enum": SECTIONS}}
ENTRY_ID = {"name": "entry_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _operation(
    summary: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    answers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**(answers or {"200": _ok("done")}), **ERRORS}}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return operation


def _alert_action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "post": _operation(
            summary,
            parameters=[ALERT_ID],
            body=body or {"type": "object"},
            answers={
                "200": _ok("the alert afterwards", {"$ref": "#/components/schemas/AlertResult"}),
                "404": {"description": "no such alert"},
                "409": {"description": "the alert's state does not allow this"},
            },
        )
    }


def openapi_document() -> dict[str, Any]:
    period = [
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "inclusive"},
        {"name": "area", "in": "query", "schema": {"type": "string"}},
        {
            "name": "organisation",
            "in": "query",
            "schema": {"type": "string"},
            "description": "its areas' alerts; neither this nor area: everything in the token's scope",
        },
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callwatch API",
            "version": "1",
            "description": "Everything the duty console does. Actions are recorded under the token's user, "
            "within its role and scope: what is outside the scope answers 404.",
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a user's API token (cw_...)"}
            },
            "schemas": {
                "Alert": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"type": "string"},
                        "state": {"type": "string", "enum": [state.value for state in AlertState]},
                        "device_id": {"type": ["string", "null"]},
                        "resident_id": {"type": ["string", "null"]},
                        "raised_at": {"type": "string", "format": "date-time"},
                        "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
                        "acknowledged_by": {"type": ["string", "null"], "description": "who holds it now"},
                        "taken_at": {"type": ["string", "null"], "format": "date-time"},
                        "en_route_at": {"type": ["string", "null"], "format": "date-time"},
                        "eta": {"type": ["string", "null"], "format": "date-time"},
                        "on_site_at": {"type": ["string", "null"], "format": "date-time"},
                        "on_site_by": {"type": ["string", "null"]},
                        "overdue": {"type": "boolean"},
                        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
                        "outcome": {"type": ["string", "null"]},
                        "tier": {"type": "integer"},
                        "unanswered": {"type": "boolean"},
                    },
                },
                "AlertResult": {"type": "object", "properties": {"alert": {"$ref": "#/components/schemas/Alert"}}},
                "OnCallPerson": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "role": {"enum": ["volunteer", "leader", "staff"]},
                        "phone": {"type": "string"},
                        "status": {"enum": [duty.value for duty in Duty]},
                        "until": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": "when the status next changes; null: when they reply, or not this week",
                        },
                        "reachable": {"type": "boolean", "description": "false once the phone replied STOP"},
                    },
                },
                "Roster": {
                    "type": "object",
                    "properties": {
                        "now": {"type": "string", "format": "date-time"},
                        "until": {"type": "string", "format": "date-time"},
                        "areas": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "name": {"type": "string"},
                                    "on_call_now": {"type": "array", "items": {"type": "string"}},
                                    "people": {"type": "array", "items": {"$ref": "#/components/schemas/OnCallPerson"}},
                                    "gaps": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "from": {"type": "string", "format": "date-time"},
                                                "to": {"type": "string", "format": "date-time"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                        "staff": {"type": "array", "items": {"$ref": "#/components/schemas/OnCallPerson"}},
                    },
                },
            },
        },
        "paths": {
            "/api/me": {"get": _operation("who the token belongs to")},
            "/api/board": {"get": _operation("the live board: alerts needing attention, in board order")},
            "/api/alerts": {
                "get": _operation(
                    "list alerts (newest first)",
                    parameters=[
                        {"name": "state", "in": "query", "schema": {"enum": [state.value for state in AlertState]}}
                    ],
                )
            },
            "/api/alerts/{alert_id}": {
                "get": _operation("an alert with its timeline and the resident's card", parameters=[ALERT_ID])
            },
            "/api/alerts/{alert_id}/ack": _alert_action(
                "acknowledge, for yourself or on behalf of a volunteer",
                {"type": "object", "properties": {"volunteer_id": {"type": "string"}}},
            ),
            "/api/alerts/{alert_id}/escalate": _alert_action(
                "ask the next tier now; a taken alert is taken back from whoever holds it (they are told)",
                {"type": "object", "properties": {"reason": {"type": "string"}}},
            ),
            "/api/alerts/{alert_id}/reassign": _alert_action(
                "ask a named volunteer by SMS now (a taken alert is taken back first)",
                {
                    "type": "object",
                    "required": ["volunteer_id"],
                    "properties": {"volunteer_id": {"type": "string"}, "reason": {"type": "string"}},
                },
            ),
            "/api/alerts/{alert_id}/arrived": _alert_action(
                "record that whoever took it (or, for an open alert, volunteer_id) is with the resident",
                {"type": "object", "properties": {"volunteer_id": {"type": "string"}, "reason": {"type": "string"}}},
            ),
            "/api/alerts/{alert_id}/notes": _alert_action(
                "add a note", {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
            ),
            "/api/alerts/{alert_id}/resolve": _alert_action(
                "resolve with an outcome (an open alert is acknowledged first)",
                {
                    "type": "object",
                    "properties": {
                        "outcome": {"enum": [outcome.value for outcome in Outcome]},
                        "note": {"type": "string"},
                    },
                },
            ),
            "/api/alerts/{alert_id}/camera": _alert_action(
                "a one-use link (valid 60 s) to the consented camera, during an SOS, fall or missed check-in "
                "being handled; following it records the view"
            ),
            "/api/directory/{section}": {
                "get": _operation(
                    "list or search a directory section",
                    parameters=[SECTION, {"name": "q", "in": "query", "schema": {"type": "string"}}],
                )
            },
            "/api/directory/{section}/{entry_id}": {
                "get": _operation("one entry", parameters=[SECTION, ENTRY_ID]),
                "put": _operation(
                    "create or replace an entry (administrators); fields as in the directory file, "
                    "plus 'card' for a resident's emergency contacts and camera",
                    parameters=[SECTION, ENTRY_ID],
                    body={"type": "object"},
                    answers={
                        "200": _ok("updated"),
                        "201": _ok("created"),
                        "400": _ok("not saved; problems by field"),
                    },
                ),
                "delete": _operation(
                    "retire a volunteer, resident (with her devices), device, area or policy (administrators), by the "
                    "directory file's rules; with reassign=true the alerts a volunteer holds go back to escalation",
                    parameters=[SECTION, ENTRY_ID, {"name": "reassign", "in": "query", "schema": {"type": "boolean"}}],
                    answers={
                        "200": _ok("retired: who and what, and the alerts handed back"),
                        "409": _ok("not retired: an alert, or what still uses an area or policy, stands in the way"),
                    },
                ),
            },
            "/api/directory/{section}/{entry_id}/erase": {
                "post": _operation(
                    "erase everything personal about a resident or volunteer (administrators; sections residents "
                    "and volunteers); alerts stay, anonymous; the body repeats the id to confirm",
                    parameters=[SECTION, ENTRY_ID],
                    body={"type": "object", "properties": {"confirm": {"type": "string"}}, "required": ["confirm"]},
                    answers={
                        "200": _ok("erased: who, and how many text cells were overwritten"),
                        "400": _ok("not erased: confirm does not repeat the id"),
                        "404": {"description": "no such resident or volunteer"},
                        "409": _ok("not erased: an alert of theirs is not ended (error names it)"),
                    },
                )
            },
            "/api/reports": {
                "get": _operation(
                    "the report for a period and area, with each volunteer's load (alerts asked to take, took)",
                    parameters=period,
                )
            },
            "/api/oncall": {
                "get": _operation(
                    "who is on call now per area, and the gaps in the coming week when nobody serving an area is",
                    answers={"200": _ok("the roster", {"$ref": "#/components/schemas/Roster"})},
                )
            },
            "/api/users": {
                "get": _operation("list accounts (administrators)"),
                "post": _operation(
                    "add an account (administrators)",
                    body={
                        "type": "object",
                        "required": ["name", "display_name", "role", "password"],
                        "properties": {
                            "name": {"type": "string"},
                            "display_name": {"type": "string"},
                            "role": {"enum": ["admin", "duty", "viewer"]},
                            "organisation": {"type": "string", "description": "scope: this organisation"},
                            "areas": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "scope: these areas; neither: the creator's own scope",
                            },
                            "language": {"enum": ["zh", "en"]},
                            "password": {"type": "string"},
                        },
                    },
                    answers={"201": _ok("created"), "400": _ok("a field is wrong")},
                ),
            },
        },
    }
