from datetime import UTC, datetime

import pytest

from monitor.alerts.lifecycle import AlertState, InvalidTransition, Outcome, transition
from monitor.store.models import Alert

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def open_alert() -> Alert:
    return Alert(id=7, kind="sos", state="open", raised_at=NOW, next_escalation_at=NOW, tier=0, round=0)


def test_acknowledge_stops_escalation_and_records_who() -> None:
    alert = open_alert()
    event = transition(alert, AlertState.ACKNOWLEDGED, at=NOW, actor="volunteer:v-01", by="v-01")
    assert alert.state == "acknowledged"
    assert alert.acknowledged_by == "v-01"
    assert alert.acknowledged_at == NOW
    assert alert.next_escalation_at is None
    assert (event.kind, event.actor, event.alert_id) == ("acknowledged", "volunteer:v-01", 7)


def test_resolve_keeps_the_outcome() -> None:
    alert = open_alert()
    transition(alert, AlertState.ACKNOWLEDGED, at=NOW, actor="volunteer:v-01")
    transition(alert, AlertState.RESOLVED, at=NOW, actor="volunteer:v-01", outcome=Outcome.AMBULANCE_CALLED)
    assert (alert.state, alert.outcome) == ("resolved", "ambulance_called")


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("open", AlertState.RESOLVED),
        ("acknowledged", AlertState.CANCELLED),
        ("cancelled", AlertState.ACKNOWLEDGED),
        ("resolved", AlertState.ACKNOWLEDGED),
        ("acknowledged", AlertState.ACKNOWLEDGED),
    ],
)
def test_other_moves_are_refused_and_change_nothing(start: str, target: AlertState) -> None:
    alert = open_alert()
    alert.state = start
    with pytest.raises(InvalidTransition):
        transition(alert, target, at=NOW, actor="system")
    assert alert.state == start


def test_on_the_way_then_on_site_stamps_when_the_eta_and_who() -> None:
    alert = open_alert()
    transition(alert, AlertState.ACKNOWLEDGED, at=NOW, actor="volunteer:v-01", by="v-01")
    later, eta = NOW.replace(minute=2), NOW.replace(minute=12)
    transition(alert, AlertState.EN_ROUTE, at=later, actor="volunteer:v-01", eta=eta)
    assert (alert.state, alert.en_route_at, alert.eta) == ("en_route", later, eta)
    event = transition(alert, AlertState.ON_SITE, at=eta, actor="user:alice", by="v-01")
    assert (alert.state, alert.on_site_at, alert.on_site_by, event.actor) == ("on_site", eta, "v-01", "user:alice")


def test_back_to_open_forgets_the_holder_but_not_the_first_answer() -> None:
    alert = open_alert()
    transition(alert, AlertState.ACKNOWLEDGED, at=NOW, actor="volunteer:v-01", by="v-01")
    alert.follow_up, alert.follow_up_at = "remind_arrival", NOW
    event = transition(alert, AlertState.OPEN, at=NOW.replace(minute=30), actor="system")
    assert (alert.state, alert.acknowledged_by, alert.taken_at, alert.follow_up_at) == ("open", None, None, None)
    assert alert.acknowledged_at == NOW  # the answering figures keep the first answer
    assert event.kind == "reopened"
    transition(alert, AlertState.ACKNOWLEDGED, at=NOW.replace(minute=31), actor="volunteer:v-02", by="v-02")
    assert (alert.acknowledged_at, alert.taken_at) == (NOW, NOW.replace(minute=31))


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("open", AlertState.ON_SITE),
        ("open", AlertState.EN_ROUTE),
        ("on_site", AlertState.EN_ROUTE),
        ("en_route", AlertState.ACKNOWLEDGED),
        ("resolved", AlertState.OPEN),
        ("cancelled", AlertState.OPEN),
    ],
)
def test_follow_through_moves_go_forward_or_back_to_open_only(start: str, target: AlertState) -> None:
    alert = open_alert()
    alert.state = start
    with pytest.raises(InvalidTransition):
        transition(alert, target, at=NOW, actor="system")
