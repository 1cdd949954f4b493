"""The settings screen: tilt thresholds, hold times, snooze and alert channels, saved to config.toml."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from firmware_interface.errors import UsageError
from fusion.settings import Settings, config_path, load_settings, save_settings


@dataclass(frozen=True)
class NumberField:
    key: str
    """``section.key`` in ``Settings``."""
    label: str
    unit: str
    """As shown beside the field."""
    unit_name: str
    """As named in a message."""
    scale: float = 1.0
    """Stored value = shown value × scale (minutes shown, seconds stored)."""

    @property
    def widget_id(self) -> str:
        return "field-" + self.key.replace(".", "-")


DEGREES, SECONDS = ("°", "degrees"), ("s", "seconds")
GROUPS: tuple[tuple[str, tuple[NumberField, ...]], ...] = (
    ("Tilt thresholds: degrees from your zero, anterior positive", (
        NumberField("sustained_tilt.standing_anterior_deg", "Standing, anterior", *DEGREES),
        NumberField("sustained_tilt.standing_posterior_deg", "Standing, posterior", *DEGREES),
        NumberField("sustained_tilt.sitting_anterior_deg", "Sitting, anterior", *DEGREES),
        NumberField("sustained_tilt.sitting_posterior_deg", "Sitting, posterior", *DEGREES),
        NumberField("sustained_tilt.sitting_anterior_vs_standing_deg", "No sitting zero, anterior", *DEGREES),
        NumberField("sustained_tilt.sitting_posterior_vs_standing_deg", "No sitting zero, posterior", *DEGREES),
    )),
    ("Hold times: how long beyond a threshold before an alert", (
        NumberField("sustained_tilt.hold_sitting_s", "Sitting", *SECONDS),
        NumberField("sustained_tilt.hold_standing_s", "Standing", *SECONDS),
        NumberField("sustained_tilt.re_alert_s", "Remind again after", *SECONDS),
    )),
    ("Alerts", (
        NumberField("alerts.snooze_s", "Snooze for", "min", "minutes", scale=60.0),
    )),
)
CHANNELS: tuple[tuple[str, str], ...] = (
    ("alerts.bell", "Terminal bell"),
    ("alerts.desktop_notification", "Desktop notification, where available"),
)


def _setting(settings: Settings, key: str):
    section, name = key.split(".")
    return getattr(getattr(settings, section), name)


class SettingsScreen(ModalScreen[Settings | None]):
    """Edit the alert settings and save them to the TOML file the CLI reads.

    ``settings`` are the ones in force (shown as the starting values); ``path`` is the settings
    file (default ``fusion.settings.config_path()``; pass the CLI's ``--config`` path when one
    was given). Each number is checked as it is typed, with a one-line message naming its unit.
    Ctrl+S or Save writes the file (only these fields change in it) and dismisses with the new
    ``Settings`` (``settings`` with the edits); Esc or Cancel dismisses with ``None``.
    """

    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen #settings-dialog {
        width: 100%; max-width: 84; height: auto; max-height: 100%;
        border: round $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    SettingsScreen .settings-heading { text-style: bold; color: $accent; margin-top: 1; }
    SettingsScreen .settings-row { height: 1; }
    SettingsScreen .settings-label { width: 28; }
    SettingsScreen .settings-row Input { width: 10; background: $boost; }
    SettingsScreen .settings-row Input.-invalid { background: $error 30%; }
    SettingsScreen .settings-unit { width: 5; padding-left: 1; }
    SettingsScreen .settings-error { color: $text-error; display: none; padding-left: 2; }
    SettingsScreen .settings-error.-shown { display: block; }
    SettingsScreen Checkbox { margin-left: 27; }
    SettingsScreen #settings-path { margin-top: 1; color: $text-muted; }
    SettingsScreen #settings-foot { dock: bottom; height: auto; background: $surface; }
    SettingsScreen #settings-status { color: $text-error; display: none; }
    SettingsScreen #settings-status.-shown { display: block; }
    SettingsScreen #settings-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    SettingsScreen #settings-buttons Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings-save", tooltip="Save to the settings file and close"),
        Binding("escape", "cancel", "Cancel", id="settings-cancel", tooltip="Close without saving"),
    ]

    def __init__(self, settings: Settings, path: Path | str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.path = Path(path) if path is not None else config_path()
        self._fields = {f.widget_id: f for _, fields in GROUPS for f in fields}

    def compose(self) -> ComposeResult:
        # The dialog scrolls as a whole; the status line and the buttons stay docked at its foot.
        with VerticalScroll(id="settings-dialog") as dialog:
            dialog.border_title = "Settings"
            dialog.border_subtitle = "Ctrl+S save · Esc cancel"
            with Vertical(id="settings-foot"):
                yield Static("", id="settings-status")
                with Horizontal(id="settings-buttons"):
                    yield Button("Save", variant="primary", id="settings-save", compact=True)
                    yield Button("Cancel", id="settings-cancel", compact=True)
            for heading, fields in GROUPS:
                yield Label(heading, classes="settings-heading")
                for field in fields:
                    shown = _setting(self.settings, field.key) / field.scale
                    with Horizontal(classes="settings-row"):
                        yield Label(field.label, classes="settings-label")
                        yield Input(f"{shown:g}", id=field.widget_id, compact=True)
                        yield Label(field.unit, classes="settings-unit")
                    yield Label("", id=f"{field.widget_id}-error", classes="settings-error")
            for key, label in CHANNELS:
                yield Checkbox(label, bool(_setting(self.settings, key)),
                               id="field-" + key.replace(".", "-"), compact=True)
            yield Static(f"Settings file: {self.path}", id="settings-path")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def check(self, field: NumberField, text: str) -> tuple[float | None, str]:
        """The stored value typed into ``field``, or None and a one-line reason."""
        try:
            number = float(text.strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return None, f"↑ enter a number of {field.unit_name}"
        value = number * field.scale
        section, name = field.key.split(".")
        try:
            dataclasses.replace(getattr(self.settings, section), **{name: value})
        except UsageError as exc:
            # The field's label is on the row above: the message need not repeat the key's name.
            return None, "↑ " + str(exc).removeprefix(f"{name} ")
        return value, ""

    def _show_check(self, input_widget: Input) -> float | None:
        field = self._fields[input_widget.id]
        value, message = self.check(field, input_widget.value)
        error = self.query_one(f"#{field.widget_id}-error", Label)
        error.update(message)
        error.set_class(bool(message), "-shown")
        input_widget.set_class(bool(message), "-invalid")
        return value

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        self._show_check(event.input)

    @on(Input.Submitted)
    def _field_submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#settings-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#settings-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def edits(self) -> dict[str, float | bool] | None:
        """Every field's value by ``section.key``, or None (and the first bad field focused)."""
        edits: dict[str, float | bool] = {}
        first_bad: Input | None = None
        for input_widget in self.query(Input):
            value = self._show_check(input_widget)
            if value is None:
                first_bad = first_bad or input_widget
            else:
                edits[self._fields[input_widget.id].key] = value
        if first_bad is not None:
            first_bad.focus()
            return None
        for key, _ in CHANNELS:
            edits[key] = self.query_one("#field-" + key.replace(".", "-"), Checkbox).value
        return edits

    def _refuse(self, reason: str) -> None:
        status = self.query_one("#settings-status", Static)
        status.update(f"Not saved: {reason}")
        status.add_class("-shown")

    def action_save(self) -> None:
        edits = self.edits()
        if edits is None:
            self._refuse("correct the field with a message under it.")
            return
        try:
            updated = self.settings.with_overrides(edits, source="settings")
            # Into the file go these fields over what the file already holds, not command-line overrides.
            in_file = load_settings(self.path) if self.path.exists() else Settings()
            save_settings(in_file.with_overrides(edits, source="settings"), self.path)
        except UsageError as exc:
            self._refuse(str(exc))
            return
        self.dismiss(updated)

    def action_cancel(self) -> None:
        self.dismiss(None)
