"""The guided routine screen on its own, with a fake clock: no test waits through real minutes."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Static

from fusion.corrections import DISCLAIMER
from fusion.routines import BREATH_IN_S, BREATH_S, routine_for
from tui.screens.routine import RoutineScreen


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 5000.0

    def __call__(self) -> float:
        return self.now_s


class RoutineHost(App):
    def __init__(self, pattern="anterior", tilt_pattern=None, tick_interval_s: float = 3600.0) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.screen_under_test = RoutineScreen(pattern, tilt_pattern, clock=self.clock,
                                               tick_interval_s=tick_interval_s)
        self.closed = False

    def on_mount(self) -> None:
        self.push_screen(self.screen_under_test, callback=lambda _: setattr(self, "closed", True))

    def pass_time(self, seconds: float) -> None:
        self.clock.now_s += seconds
        self.screen_under_test.tick()


def shown(app, name: str) -> str:
    return str(app.screen.query_one(f"#routine-{name}", Static).render())


async def test_starts_at_the_first_warm_up_exercise_breathing_in():
    app = RoutineHost("anterior")
    routine = routine_for("anterior")
    async with app.run_test(size=(80, 24)):
        assert shown(app, "count") == f"Exercise 1 of {len(routine.steps)}"
        assert routine.steps[0].title in shown(app, "exercise")
        assert shown(app, "block").startswith("Warm-up:")
        assert "BREATHE IN" in shown(app, "pacer") and "breath 1 of 10" in shown(app, "pacer")
        assert shown(app, "disclaimer") == DISCLAIMER
        assert f"Next: {routine.steps[1].title}" == shown(app, "next")


async def test_the_pacer_follows_the_clock_breath_by_breath_and_moves_on():
    app = RoutineHost("posterior")
    routine = routine_for("posterior")
    async with app.run_test(size=(80, 24)) as pilot:
        app.pass_time(BREATH_IN_S + 0.5)
        await pilot.pause()
        assert "BREATHE OUT" in shown(app, "pacer") and "breath 1 of 10" in shown(app, "pacer")
        app.pass_time(BREATH_S * 3)
        assert "breath 4 of 10" in shown(app, "pacer")
        app.pass_time(routine.steps[0].duration_s - BREATH_S * 3 - BREATH_IN_S)  # 0.5 s into step 2
        assert shown(app, "count").startswith("Exercise 2 of")
        assert routine.steps[1].title in shown(app, "exercise")
        left = routine.duration_s - routine.steps[0].duration_s - 0.5
        assert f"all {int(left // 60)}:{round(left % 60):02d} left" in shown(app, "times")


async def test_space_pauses_and_resumes():
    app = RoutineHost("anterior")
    async with app.run_test(size=(80, 24)) as pilot:
        app.pass_time(12.0)
        await pilot.press("space")
        assert app.screen.query_one("#routine-panel").border_subtitle == "PAUSED"
        app.pass_time(600.0)
        assert shown(app, "count").startswith("Exercise 1 of") and "breath 2 of 10" in shown(app, "pacer")
        assert shown(app, "pacer").startswith("PAUSED")
        await pilot.press("space")
        assert app.screen.query_one("#routine-panel").border_subtitle == ""
        app.pass_time(BREATH_S)
        assert "breath 3 of 10" in shown(app, "pacer")


@pytest.mark.parametrize("skip_key, back_key", [("n", "b"), ("right", "left")])
async def test_skip_and_back_keys(skip_key, back_key):
    app = RoutineHost("anterior")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(skip_key, skip_key)
        assert shown(app, "count").startswith("Exercise 3 of")
        assert "breath 1 of 10" in shown(app, "pacer")
        await pilot.press(back_key)
        assert shown(app, "count").startswith("Exercise 2 of")


async def test_the_end_says_how_often_and_back_returns_to_the_last_exercise():
    app = RoutineHost("anterior")
    routine = routine_for("anterior")
    async with app.run_test(size=(80, 24)) as pilot:
        app.pass_time(routine.duration_s + 1.0)
        await pilot.pause()
        assert shown(app, "block") == "Routine done"
        assert "three times a week" in shown(app, "exercise")
        assert not app.screen.query_one("#routine-pacer").display
        await pilot.press("b")
        assert shown(app, "count") == f"Exercise {len(routine.steps)} of {len(routine.steps)}"
        assert app.screen.query_one("#routine-pacer").display


async def test_butt_wink_without_a_tilt_pattern_explains_the_missing_cool_down():
    app = RoutineHost("butt_wink")
    async with app.run_test(size=(80, 24)):
        assert "measured tilt pattern" in shown(app, "note")
        assert shown(app, "count") == "Exercise 1 of 4 · round 1 of 2"
    app = RoutineHost("butt_wink", "anterior")
    async with app.run_test(size=(80, 24)):
        assert not app.screen.query_one("#routine-note").display


async def test_the_timer_reads_the_injected_clock():
    app = RoutineHost("anterior", tick_interval_s=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        app.clock.now_s += BREATH_S + 1.0
        for _ in range(500):  # up to 5 s of real time, with the other core busy
            if "breath 2 of 10" in shown(app, "pacer"):
                break
            await pilot.pause(0.01)
        assert "breath 2 of 10" in shown(app, "pacer")


@pytest.mark.parametrize("key", ["escape", "q"])
async def test_escape_and_q_close(key):
    app = RoutineHost("anterior")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert app.closed and not isinstance(app.screen, RoutineScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_routine_snapshot(snap_compare, size):
    app = RoutineHost("anterior")

    async def two_minutes_in(pilot) -> None:
        app.pass_time(127.0)

    assert snap_compare(app, terminal_size=size, run_before=two_minutes_in)
