"""The monitor killed with SIGKILL at awkward moments: nothing lost, nothing sent twice."""

from __future__ import annotations

import asyncio
import time

from tests.support.deployment import TIER1, TIER2, Deployment


async def test_sos_published_while_the_monitor_is_dead_is_raised_once_on_restart(deployment: Deployment) -> None:
    async with deployment.process() as monitor:
        monitor.kill()  # its persistent session at the broker keeps what arrives now
        await deployment.press("btn-1", event_id="while-down")
        await monitor.start()
        messages = await deployment.sandbox.wait_for_messages(2)
        await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        # Restart once more: nothing queued or half-done may come back as a second alert or SMS.
        monitor.kill()
        await monitor.start()
        await deployment.press("btn-2", event_id="after")  # proof the new process is consuming
        await deployment.sandbox.wait_for_messages(4)
    alerts = deployment.alerts()
    assert sorted(alert["device_id"] for alert in alerts) == ["btn-1", "btn-2"]
    assert {message.to for message in messages} == set(TIER1)
    assert len(deployment.sandbox.messages()) == 4


async def test_kill_during_escalation_keeps_the_timer_and_sends_nothing_twice(deployment: Deployment) -> None:
    deployment.tier1_timeout_s = 4
    deployment.write_files()
    async with deployment.process() as monitor:
        pressed = time.monotonic()
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        monitor.kill()
        await monitor.start()
        [tier2] = await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=15)
        await deployment.sandbox.idle()
    waited = tier2.arrived_monotonic - pressed
    assert 4.0 <= waited < 6.5, f"tier 2 asked {waited:.2f} s after the press (timeout 4 s)"
    for phone in TIER1:
        assert len(deployment.sandbox.messages(to=phone)) == 1, f"{phone} asked twice"
    [alert] = deployment.alerts()
    assert (alert["state"], alert["tier"]) == ("open", 2)


async def test_sigterm_stops_cleanly_with_exit_code_zero(deployment: Deployment) -> None:
    async with deployment.process() as monitor:
        code = await monitor.terminate()
    assert code == 0
    assert "stopped cleanly" in monitor.log()
    assert "Traceback" not in monitor.log()


async def test_a_press_during_restart_is_not_lost(deployment: Deployment) -> None:
    async with deployment.process() as monitor:
        stopping = asyncio.create_task(monitor.terminate())
        await deployment.press("btn-2", event_id="during-stop")
        assert await stopping == 0
        await monitor.start()
        await deployment.sandbox.wait_for_messages(2)
    assert len(deployment.alerts()) == 1
