"""The dashboard opens the help, settings and routine screens, and applies saved settings live."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from firmware_interface.sources import simulator_source
from fusion.pipeline import Pipeline
from fusion.settings import load_settings
from tui.app import make_app
from tui.screens.help import HelpScreen
from tui.screens.routine import RoutineScreen
from tui.screens.settings import SettingsScreen

SIZE = (80, 24)


def _app(tmp_path):
    # Real-time pace: the replay must not end (and show its summary over the screen under test)
    # while a test runs, however fast the machine.
    source = simulator_source("desk", seed=1, speed=1.0)
    pipeline = Pipeline.for_source(source.info)
    return make_app(source, pipeline, mode="replay", config_path=tmp_path / "config.toml"), pipeline


async def test_question_mark_and_f1_open_the_help_and_escape_closes_it(tmp_path):
    app, _ = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)


async def test_g_opens_the_routine_for_the_pattern_on_show(tmp_path):
    app, _ = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, RoutineScreen)
        assert app.routine_patterns()[0] in ("anterior", "posterior", "butt_wink")


async def test_saved_settings_reach_the_running_pipeline_and_the_file(tmp_path):
    app, pipeline = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        field = app.screen.query_one("#field-sustained_tilt-sitting_posterior_deg", Input)
        field.value = "-14"
        field = app.screen.query_one("#field-alerts-snooze_s", Input)
        field.value = "10"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
        await pilot.pause()
        assert app.pipeline.sustained.params.sitting_posterior_deg == -14
        assert app.state.tilt_params.sitting_posterior_deg == -14
        assert app.state.snooze_steps_s == (600.0, 900.0, 3600.0)
    saved = load_settings(tmp_path / "config.toml")
    assert saved.sustained_tilt.sitting_posterior_deg == -14 and saved.alerts.snooze_s == 600


@pytest.fixture
def store_with_a_session_today(tmp_path, capsys):
    from tui.cli import main

    recording = tmp_path / "today.csv"  # recorded now: today's row has it, whatever the date
    assert main(["record", str(recording), "--simulate", "--scenario", "squat", "--seconds", "60"]) == 0
    assert main(["analyze", str(recording), "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    return tmp_path


async def test_h_shows_the_stored_sessions_by_day_then_by_week(store_with_a_session_today):
    from datetime import date

    from textual.widgets import Static

    from tui.screens.history import HistoryScreen

    source = simulator_source("desk", seed=1, speed=1.0)  # as in _app: the replay must not end meanwhile
    app = make_app(source, Pipeline.for_source(source.info), mode="replay", data_dir=str(store_with_a_session_today))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one("#history-table", Static)

        async def shown(first_word: str) -> str:
            for _ in range(200):
                await pilot.pause(0.05)
                text = str(table.render())
                if text.startswith(first_word):
                    return text
            raise AssertionError(f"the history never showed {first_word!r}: {text!r}")

        text = await shown("day")
        header = text.splitlines()[0]
        today = next(line for line in text.splitlines() if line.startswith(date.today().isoformat()))
        reps_end = header.index("reps") + len("reps")
        reps = today[reps_end - 5:reps_end].strip()
        assert reps.isdigit() and int(reps) > 0, today
        await pilot.press("w")
        await pilot.pause()
        await shown("week of")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)
