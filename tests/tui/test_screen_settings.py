"""The settings screen on its own: checks each field as typed, saves to a settings file in a tmp dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Checkbox, Input, Static

from fusion.settings import Settings, load_settings
from tui.screens.settings import SettingsScreen

UNSET = object()


class SettingsHost(App):
    def __init__(self, settings: Settings, path: Path) -> None:
        super().__init__()
        self.settings, self.path, self.result = settings, path, UNSET

    def on_mount(self) -> None:
        self.push_screen(SettingsScreen(self.settings, self.path), callback=self._record_result)

    def _record_result(self, result: Settings | None) -> None:
        self.result = result


async def _type(pilot, field_id: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#{field_id}", Input)
    field.value = text
    await pilot.pause()


def _error(app, field_id: str) -> str:
    label = app.screen.query_one(f"#{field_id}-error")
    return str(label.render()) if label.has_class("-shown") else ""


async def test_fields_start_from_the_settings_given(tmp_path):
    settings = Settings().with_overrides({"sustained_tilt.hold_sitting_s": 45, "alerts.snooze_s": 300,
                                          "alerts.bell": False})
    app = SettingsHost(settings, tmp_path / "config.toml")
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        assert screen.query_one("#field-sustained_tilt-hold_sitting_s", Input).value == "45"
        assert screen.query_one("#field-sustained_tilt-standing_posterior_deg", Input).value == "-8"
        assert screen.query_one("#field-alerts-snooze_s", Input).value == "5", "snooze is shown in minutes"
        assert screen.query_one("#field-alerts-bell", Checkbox).value is False
        assert screen.query_one("#field-alerts-desktop_notification", Checkbox).value is True


@pytest.mark.parametrize("field_id, text, message", [
    ("field-sustained_tilt-standing_anterior_deg", "ten", "enter a number of degrees"),
    ("field-sustained_tilt-standing_anterior_deg", "60", "must be an anterior angle in (0, 45] degrees, got 60"),
    ("field-sustained_tilt-sitting_posterior_deg", "5", "must be a posterior angle in [-60, 0) degrees"),
    ("field-sustained_tilt-hold_sitting_s", "nan", "enter a number of seconds"),
    ("field-sustained_tilt-hold_standing_s", "0", "must be in (0, 7200] seconds"),
    ("field-alerts-snooze_s", "0.5", "(1 min to 4 h)"),
    ("field-alerts-snooze_s", "", "enter a number of minutes"),
])
async def test_each_field_is_checked_as_typed_with_its_unit(tmp_path, field_id, text, message):
    app = SettingsHost(Settings(), tmp_path / "config.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        original = app.screen.query_one(f"#{field_id}", Input).value
        await _type(pilot, field_id, text)
        shown = _error(app, field_id)
        assert message in shown and "\n" not in shown
        assert app.screen.query_one(f"#{field_id}").has_class("-invalid")
        await _type(pilot, field_id, original)
        assert _error(app, field_id) == "" and not app.screen.query_one(f"#{field_id}").has_class("-invalid")


async def test_ctrl_s_saves_to_the_file_and_returns_the_new_settings(tmp_path):
    path = tmp_path / "tiltwatch" / "config.toml"
    app = SettingsHost(Settings(), path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "field-sustained_tilt-hold_sitting_s", "90")
        await _type(pilot, "field-sustained_tilt-standing_anterior_deg", "12.5")
        await _type(pilot, "field-alerts-snooze_s", "60")
        app.screen.query_one("#field-alerts-bell", Checkbox).value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    expected = Settings().with_overrides({"sustained_tilt.hold_sitting_s": 90, "sustained_tilt.standing_anterior_deg": 12.5,
                                          "alerts.snooze_s": 3600, "alerts.bell": False})
    assert app.result == expected
    assert load_settings(path) == expected
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700


async def test_save_button_and_enter_save_too(tmp_path):
    for trigger in ("button", "enter"):
        path = tmp_path / trigger / "config.toml"
        app = SettingsHost(Settings(), path)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "field-sustained_tilt-re_alert_s", "600")
            if trigger == "button":
                await pilot.click("#settings-save")
            else:
                app.screen.query_one("#field-sustained_tilt-re_alert_s").focus()
                await pilot.press("enter")
            await pilot.pause()
        assert app.result.sustained_tilt.re_alert_s == 600.0
        assert load_settings(path).sustained_tilt.re_alert_s == 600.0


async def test_command_line_overrides_stay_out_of_the_file_and_its_other_keys_stay_in(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# mine\n[squat]\nwink_flag_deg = 12\n")
    in_force = load_settings(path, {"sustained_tilt.fidget_tolerance_s": 10})
    app = SettingsHost(in_force, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "field-sustained_tilt-hold_standing_s", "40")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result.sustained_tilt.fidget_tolerance_s == 10.0 and app.result.sustained_tilt.hold_standing_s == 40.0
    saved = load_settings(path)
    assert saved.sustained_tilt.fidget_tolerance_s == Settings().sustained_tilt.fidget_tolerance_s
    assert saved.sustained_tilt.hold_standing_s == 40.0 and saved.squat.wink_flag_deg == 12.0
    assert path.read_text().startswith("# mine\n")


async def test_a_bad_field_blocks_saving_and_is_focused(tmp_path):
    path = tmp_path / "config.toml"
    app = SettingsHost(Settings(), path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "field-sustained_tilt-hold_standing_s", "-3")
        app.screen.query_one("#field-sustained_tilt-standing_anterior_deg").focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen) and app.result is UNSET
        assert app.focused.id == "field-sustained_tilt-hold_standing_s"
        assert "correct the field with a message under it" in str(app.screen.query_one("#settings-status", Static).render())
    assert not path.exists()


async def test_a_band_too_narrow_for_the_hysteresis_is_refused_in_one_line(tmp_path):
    path = tmp_path / "config.toml"
    app = SettingsHost(Settings(), path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _type(pilot, "field-sustained_tilt-standing_anterior_deg", "1")
        await _type(pilot, "field-sustained_tilt-standing_posterior_deg", "-1")
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = str(app.screen.query_one("#settings-status", Static).render())
        assert "too narrow for a hysteresis of 3°" in status and "\n" not in status
        assert app.result is UNSET
    assert not path.exists()


async def test_escape_cancels_without_writing(tmp_path):
    path = tmp_path / "config.toml"
    app = SettingsHost(Settings(), path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "field-sustained_tilt-hold_sitting_s", "90")
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None and not path.exists()


async def test_a_broken_settings_file_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[sustained_tilt\n")
    app = SettingsHost(Settings(), path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not valid TOML" in str(app.screen.query_one("#settings-status", Static).render())
    assert path.read_text() == "[sustained_tilt\n"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_settings_snapshot(snap_compare, size):
    # The path is only shown: nothing is saved in a snapshot.
    app = SettingsHost(Settings(), Path("/tmp/tiltwatch-snapshot/config.toml"))
    assert snap_compare(app, terminal_size=size)


def test_settings_snapshot_with_errors(snap_compare):
    app = SettingsHost(Settings(), Path("/tmp/tiltwatch-snapshot/config.toml"))
    assert snap_compare(app, terminal_size=(80, 24), press=["6", "0", "tab", "tab", "x", "ctrl+s"])
