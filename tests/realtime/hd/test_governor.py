"""The governor on a fake clock and a fake backend whose cost grows with the painted pixels."""
from stylecast.realtime.hd.governor import FLOOR_LONG_SIDE, HANDOVER_LONG_SIDE, Governor, GovernorSettings, Rung, build_ladder

FPS = 30.0


class FakeMachine:
    """Paint time per frame: ``ms_at_640`` for a 640-px long side (per network), scaled by pixels."""

    def __init__(self, ms_at_640: dict[str, float]) -> None:
        self.ms_at_640 = ms_at_640
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def paint_s(self, rung: Rung) -> float:
        return self.ms_at_640[rung.network] * (rung.long_side / 640) ** 2 / 1000


def run(governor: Governor, machine: FakeMachine, seconds: float) -> list[tuple[float, Rung]]:
    """Frames at the camera's rate or slower (a frame takes as long as it takes); every proposal is
    ready at once. Returns (time, rung) at each change."""
    changes = []
    end = machine.now + seconds
    while machine.now < end:
        busy = machine.paint_s(governor.rung)
        machine.now += max(busy, 1 / FPS)
        proposed = governor.observe(busy)
        if proposed is not None:
            governor.commit(proposed)
            changes.append((machine.now, governor.rung))
    return changes


def test_ladder_runs_from_the_top_down_network_by_network_and_only_the_last_to_the_floor():
    ladder = build_ladder(["full", "fast", "lite"], 640)
    sides = {n: [r.long_side for r in ladder if r.network == n] for n in ("full", "fast", "lite")}
    assert [r.network for r in ladder] == ["full"] * len(sides["full"]) + ["fast"] * len(sides["fast"]) + ["lite"] * len(sides["lite"])
    assert sides["lite"][0] == 640 and sides["lite"][-1] == FLOOR_LONG_SIDE
    assert sides["lite"] == sorted(sides["lite"], reverse=True) and all(s % 16 == 0 for s in sides["lite"])
    # the better networks hand over to the last one rather than paint below the handover size
    assert sides["full"] == sides["fast"] == [s for s in sides["lite"] if s >= HANDOVER_LONG_SIDE]
    assert sides["full"][-1] == HANDOVER_LONG_SIDE > FLOOR_LONG_SIDE
    assert build_ladder(["x"], 200) == [Rung("x", 200)]  # a top below the floor is its own floor
    # a top below the handover size (bold strokes): the better networks keep that one size
    assert build_ladder(["full", "lite"], 320) == [Rung("full", 320), Rung("lite", 320), Rung("lite", 288), Rung("lite", 256)]


def test_lowers_until_it_keeps_up_then_settles():
    machine = FakeMachine({"net": 60.0})  # 60 ms at 640: needs about half the pixels
    governor = Governor(build_ladder(["net"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
    changes = run(governor, machine, 30)
    assert changes and changes[0][0] < 3, "the first correction comes within a few seconds"
    assert machine.paint_s(governor.rung) * FPS <= 0.9
    above = governor.rungs[governor.index - 1]
    assert machine.paint_s(above) * FPS > governor.settings.fit, "the largest size that fits, not the floor"
    assert all(t < 10 for t, _ in changes), f"it settles: {changes}"


def test_raises_again_when_there_is_room_and_does_not_oscillate():
    machine = FakeMachine({"net": 100.0})
    governor = Governor(build_ladder(["net"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
    run(governor, machine, 15)
    low = governor.rung.long_side
    machine.ms_at_640["net"] = 20.0  # another program stopped: frames got cheaper
    changes = run(governor, machine, 40)
    assert governor.rung.long_side > low
    assert machine.paint_s(governor.rung) * FPS <= 0.9
    late = [c for c in changes if c[0] > machine.now - 15]
    assert not late, f"settled, no changes in the last 15 s: {late}"


def test_moves_to_a_lighter_network_when_the_floor_is_too_slow():
    machine = FakeMachine({"full": 400.0, "lite": 40.0})
    governor = Governor(build_ladder(["full", "lite"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
    run(governor, machine, 20)
    assert governor.rung.network == "lite"
    assert machine.paint_s(governor.rung) * FPS <= 0.9
    assert not governor.floor_too_slow


def test_a_better_network_that_fits_only_below_the_handover_size_gives_way_to_the_last_one():
    """``full`` would keep up at 336 px, but the last network paints at a bigger size, which keeps more
    of the painting once enlarged to the camera's size."""
    machine = FakeMachine({"full": 90.0, "lite": 20.0})
    assert machine.paint_s(Rung("full", 336)) * FPS < 0.8 < machine.paint_s(Rung("full", HANDOVER_LONG_SIDE)) * FPS
    for start in ("settle", "loop"):
        governor = Governor(build_ladder(["full", "lite"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
        if start == "settle":
            governor.settle(lambda rung: machine.paint_s(rung) * FPS)
        changes = run(governor, machine, 30)
        assert governor.rung.network == "lite" and governor.rung.long_side > 336, (start, governor.rung)
        assert machine.paint_s(governor.rung) * FPS <= 0.9
        # settled: ``full``, once measured too slow, is not tried again at each calm spell
        assert not [c for c in changes if c[0] > machine.now - 15], (start, changes)


def test_says_when_even_the_floor_cannot_keep_up():
    machine = FakeMachine({"net": 3000.0})
    governor = Governor(build_ladder(["net"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
    run(governor, machine, 20)
    assert governor.rung == Rung("net", FLOOR_LONG_SIDE)
    assert governor.floor_too_slow


def test_settle_starts_on_the_best_rung_measured_to_fit():
    machine = FakeMachine({"full": 400.0, "lite": 40.0})
    governor = Governor(build_ladder(["full", "lite"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
    measured = []

    def load_of(rung: Rung) -> float:
        measured.append(rung)
        return machine.paint_s(rung) * FPS

    governor.settle(load_of)
    settled = governor.rung
    assert settled.network == "lite" and machine.paint_s(settled) * FPS <= governor.settings.settle_fit
    assert len(measured) <= 5, "a few timed paints, not the whole ladder"
    # settled with a margin for the rest of the loop; on this machine with nothing else to do, at
    # most one climb into the room left, never a drop
    changes = run(governor, machine, 20)
    assert len(changes) <= 1 and all(rung.long_side > settled.long_side for _, rung in changes), changes
    assert machine.paint_s(governor.rung) * FPS <= governor.settings.fit


def test_a_proposal_waits_until_committed():
    machine = FakeMachine({"net": 100.0})
    governor = Governor(build_ladder(["net"], 640), GovernorSettings(fps=FPS), clock=machine.clock)
    proposed = None
    while proposed is None:
        machine.now += 0.1
        proposed = governor.observe(0.1)
    assert governor.rung.long_side == 640 and governor.pending == proposed
    machine.now += 5
    assert governor.observe(0.1) is None  # still waiting for the network/size to be ready
    governor.commit(proposed)
    assert governor.rung == governor.rungs[proposed] and governor.pending is None
