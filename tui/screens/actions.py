"""The dashboard's keys that open a screen over it: help, history, the guided routine and the
settings (which also apply what was saved to the running session). Mixed into the app."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable

from textual.app import SystemCommand
from textual.binding import Binding

from fusion.corrections import Pattern
from fusion.routines import TiltPattern
from fusion.settings import Settings
from tui.dashboard_state import DashboardState, snooze_steps
from tui.desktop_notify import DesktopNotifier
from tui.screens.help import HelpScreen, binding_keys
from tui.screens.history import HistoryScreen
from tui.screens.routine import RoutineScreen
from tui.screens.settings import SettingsScreen

SCREEN_BINDINGS = [
    Binding("g", "routine", "Routine", show=False, id="routine",
            tooltip="The guided warm-up and cool-down for the pattern measured, paced by breaths"),
    Binding("h", "history", "History", show=False, id="history",
            tooltip="Your stored sessions by day or week: sitting time, neutral share, alerts, reps"),
    Binding("o", "settings", "Settings", show=False, id="settings",
            tooltip="Thresholds, hold times, snooze and alert channels, saved to config.toml"),
    Binding("question_mark,f1", "help", "Help", id="help",
            tooltip="The gauge and zones, wearing and calibrating the sensor, the keys"),
]


class ScreenActions:
    """The actions of ``SCREEN_BINDINGS``. The app provides ``state``, ``pipeline``, ``_worker``,
    ``config_path``, ``data_dir``, ``push_screen`` and ``notify``."""

    state: DashboardState
    config_path: Path | str | None
    data_dir: str | None

    def screen_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Routine", "Guided warm-up and cool-down for the pattern measured", self.action_routine)
        yield SystemCommand("Settings", "Thresholds, hold times, snooze and alert channels", self.action_settings)
        yield SystemCommand("Help", "The gauge and zones, wearing and calibrating, the keys", self.action_help)
        yield SystemCommand("History", "Stored sessions by day or week", self.action_history)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(binding_keys(self.screen), self.state.tilt_params))

    def action_history(self) -> None:
        self.push_screen(HistoryScreen(self.data_dir))

    def action_routine(self) -> None:
        pattern, tilt_pattern = self.routine_patterns()
        self.push_screen(RoutineScreen(pattern, tilt_pattern))

    def routine_patterns(self) -> tuple[Pattern, TiltPattern | None]:
        """The pattern the routine is for: the alert on show, else the tilt this session held
        longest outside neutral (posterior when nothing is measured yet: the desk's commonest
        slump); a butt wink's cool-down follows that tilt."""
        outside = {"anterior": 0.0, "posterior": 0.0}
        for zones in self.state.zone_time_s.values():
            for zone in outside:
                outside[zone] += zones.get(zone, 0.0)
        tilt: TiltPattern = "anterior" if outside["anterior"] > outside["posterior"] else "posterior"
        alert = self.state.alert
        return (alert.pattern if alert is not None else tilt), tilt

    def action_settings(self) -> None:
        settings = getattr(self.pipeline, "settings", None)
        if settings is None:
            self.notify("This session has no settings to edit.", severity="warning")
            return
        self.push_screen(SettingsScreen(settings, self.config_path), callback=self.use_settings)

    def use_settings(self, settings: Settings | None) -> None:
        """Apply what the settings screen saved: thresholds and hold times from the next update,
        the snooze steps and alert channels at once."""
        if settings is None:
            return
        self._worker.use_alert_settings(settings)
        self._settings_edited = True
        self.bell_on_alert = settings.alerts.bell
        self.desktop = DesktopNotifier(enabled=settings.alerts.desktop_notification)
        self.state = replace(self.state, tilt_params=settings.sustained_tilt,
                             snooze_steps_s=snooze_steps(settings.alerts.snooze_s))
        self.notify("Settings saved; the new thresholds apply from now on.", timeout=3)
