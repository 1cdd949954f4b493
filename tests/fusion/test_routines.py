"""Guided routines: content per pattern, at least five minutes a block, and the breath pacer."""

from __future__ import annotations

import pytest

from firmware_interface.errors import UsageError
from fusion.routines import (BREATH_IN_S, BREATH_S, BREATHS_PER_POSITION, MIN_BLOCK_S, RoutinePlayer,
                             routine_for)


@pytest.mark.parametrize("pattern, tilt", [("anterior", None), ("posterior", None), ("butt_wink", "anterior"),
                                           ("butt_wink", "posterior")])
def test_each_routine_has_a_warm_up_and_a_cool_down_of_at_least_five_minutes(pattern, tilt):
    routine = routine_for(pattern, tilt)
    assert [b.title for b in routine.blocks] == ["Warm-up", "Cool-down"]
    for block in routine.blocks:
        assert block.duration_s >= MIN_BLOCK_S
        assert all(step.breaths == BREATHS_PER_POSITION for step in block.steps)
    assert routine.duration_s == sum(s.duration_s for s in routine.steps)


def test_the_two_tilt_patterns_never_share_work():
    anterior, posterior = routine_for("anterior"), routine_for("posterior")
    names = lambda r: {s.exercise.name for s in r.steps}  # noqa: E731
    assert not names(anterior) & names(posterior)
    assert "Superman" in names(posterior) and "Child's pose" in names(anterior)


def test_one_sided_exercises_run_left_then_right():
    steps = routine_for("posterior").blocks[1].steps
    assert [s.title for s in steps[:2]] == ["Lying hamstring stretch (left side)", "Lying hamstring stretch (right side)"]


def test_a_short_circuit_repeats_until_five_minutes():
    warm_up = routine_for("butt_wink", "posterior").blocks[0]
    assert len(warm_up.steps) == 4 and [s.round for s in warm_up.steps] == [1, 1, 2, 2]
    assert warm_up.steps[0].rounds == 2


def test_butt_wink_without_a_measured_tilt_has_no_cool_down_and_says_why():
    routine = routine_for("butt_wink")
    assert [b.title for b in routine.blocks] == ["Warm-up"] and "measured tilt pattern" in routine.note
    assert routine_for("butt_wink", "anterior").blocks[1] == routine_for("anterior").blocks[1]


def test_unknown_patterns_are_usage_errors():
    with pytest.raises(UsageError, match="expected one of anterior, posterior, butt_wink"):
        routine_for("sideways")
    with pytest.raises(UsageError, match="expected anterior or posterior"):
        routine_for("butt_wink", "sideways")


def test_pacer_counts_breaths_and_phases():
    player = RoutinePlayer(routine_for("anterior"))
    first = player.state()
    assert (first.step_index, first.breath, first.inhaling, first.paused, first.finished) == (0, 1, True, False, False)
    player.advance(BREATH_IN_S + 1.0)
    state = player.state()
    assert state.breath == 1 and not state.inhaling and state.phase_fraction == pytest.approx(1 / 6)
    player.advance(2 * BREATH_S)
    assert player.state().breath == 3
    assert player.state().step_left_s == pytest.approx(BREATHS_PER_POSITION * BREATH_S - 2 * BREATH_S - BREATH_IN_S - 1)


def test_pacer_moves_on_after_ten_breaths_and_pauses():
    routine = routine_for("anterior")
    player = RoutinePlayer(routine)
    player.advance(routine.steps[0].duration_s + 0.5)
    assert player.state().step_index == 1 and player.state().breath == 1
    player.toggle_pause()
    player.advance(1000.0)
    assert player.state().step_index == 1 and player.state().paused
    player.toggle_pause()
    left = player.state().routine_left_s
    player.advance(1.0)
    assert player.state().routine_left_s == pytest.approx(left - 1.0)


def test_streaming_time_in_any_slices_gives_the_same_place():
    routine = routine_for("posterior")
    whole, sliced = RoutinePlayer(routine), RoutinePlayer(routine)
    whole.advance(777.0)
    for _ in range(7770):
        sliced.advance(0.1)
    assert whole.state().step_index == sliced.state().step_index
    assert whole.state().routine_left_s == pytest.approx(sliced.state().routine_left_s, abs=1e-6)


def test_skip_back_and_the_end():
    routine = routine_for("anterior")
    player = RoutinePlayer(routine)
    player.back()
    assert player.state().step_index == 0
    player.advance(5.0)
    player.skip()
    assert player.state().step_index == 1 and player.state().breath == 1
    player.back()
    assert player.state().step_index == 0 and player.state().step_left_s == routine.steps[0].duration_s
    player.advance(routine.duration_s)
    end = player.state()
    assert end.finished and end.step is None and end.routine_left_s == 0.0
    player.skip()
    assert player.state().finished
    assert player.state().block_left_s == 0.0
