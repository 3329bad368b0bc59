"""Where escalation goes after each step: the next tier, then the next round, then nobody."""

from monitor.directory.model import Policy, Tier
from monitor.escalation.policy import next_position

AREA = Tier(notify=["area"], ack_timeout_s=60)
TWO_TIERS_TWO_REPEATS = Policy(id="default", tiers=[AREA, Tier(notify=["v-09"], ack_timeout_s=120)], repeat=2)


def test_positions_walk_tiers_then_rounds_then_end() -> None:
    position: tuple[int, int] | None = (0, 0)
    walked = []
    while position is not None:
        walked.append(position)
        position = next_position(TWO_TIERS_TWO_REPEATS, *position)
    assert walked == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


def test_single_tier_without_repeat_ends_after_it() -> None:
    assert next_position(Policy(id="p", tiers=[AREA], repeat=0), 0, 0) is None
