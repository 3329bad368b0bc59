from monitor.escalation.engine import Policy, Tier, next_position

TWO_TIERS_TWO_REPEATS = Policy("default", (Tier(("area",), 60), Tier(("v-09",), 120)), repeat=2)


def test_positions_walk_tiers_then_rounds_then_end() -> None:
    position: tuple[int, int] | None = (0, 0)
    walked = []
    while position is not None:
        walked.append(position)
        position = next_position(TWO_TIERS_TWO_REPEATS, *position)
    assert walked == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


def test_single_tier_without_repeat_ends_after_it() -> None:
    assert next_position(Policy("p", (Tier(("area",), 60),), repeat=0), 0, 0) is None
