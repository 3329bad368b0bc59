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
