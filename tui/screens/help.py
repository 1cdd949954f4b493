"""The help screen: the gauge and its zones, wearing and calibrating the sensor, the keys."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from fusion.corrections import DISCLAIMER
from fusion.detection.sustained_tilt import SustainedTiltParams

SCALE_DEG = 30.0
STRIP_CELLS = 41
"""±30° in 1.5° cells, with one cell centred on zero."""
ZONE_LOOK = {
    # Each zone has its own fill as well as its own colour, so it reads with NO_COLOR too.
    "posterior": ("░", "bold #5f9fff"),
    "neutral": ("─", "bold green"),
    "anterior": ("▓", "bold #ff8700"),
}
MINUS = "−"


def _deg(value: float) -> str:
    return f"{value:+g}°".replace("-", MINUS)


def zone_strip(anterior_deg: float, posterior_deg: float, label: str) -> Text:
    """Two lines: the ±30° scale split into posterior / neutral / anterior at the given thresholds,
    and the threshold values under the cells where the zones change."""
    cell_deg = 2 * SCALE_DEG / (STRIP_CELLS - 1)
    centre = STRIP_CELLS // 2
    strip = Text("P ")
    for cell in range(STRIP_CELLS):
        angle = (cell - centre) * cell_deg
        zone = "anterior" if angle > anterior_deg else "posterior" if angle < posterior_deg else "neutral"
        fill, style = ZONE_LOOK[zone]
        strip.append("┼" if cell == centre else fill, style)
    strip.append(" A")
    ticks = [" "] * (STRIP_CELLS + 4)

    def put(angle: float, text: str) -> None:
        cell = 2 + centre + round(max(-SCALE_DEG, min(SCALE_DEG, angle)) / cell_deg)
        start = max(0, min(len(ticks) - len(text), cell - len(text) // 2))
        ticks[start:start + len(text)] = text

    put(posterior_deg, _deg(posterior_deg))
    put(0.0, "0")
    put(anterior_deg, _deg(anterior_deg))
    text = Text(f"{label}\n", style="bold")
    text.append_text(strip)
    text.append("\n" + "".join(ticks).rstrip())
    return text


def zones_text(thresholds: SustainedTiltParams) -> Text:
    legend = Text()
    for zone, (fill, style) in ZONE_LOOK.items():
        legend.append(fill * 3, style)
        legend.append(f" {zone}   ")
    rows = (
        ("Standing, against your standing zero",
         thresholds.standing_anterior_deg, thresholds.standing_posterior_deg),
        ("Sitting, against your sitting zero",
         thresholds.sitting_anterior_deg, thresholds.sitting_posterior_deg),
        ("Sitting with no sitting zero, against your standing zero",
         thresholds.sitting_anterior_vs_standing_deg, thresholds.sitting_posterior_vs_standing_deg),
    )
    text = Text()
    for label, anterior, posterior in rows:
        text.append_text(zone_strip(anterior, posterior, label))
        text.append("\n\n")
    legend.rstrip()
    text.append_text(legend)
    return text


def binding_keys(screen: Screen) -> list[tuple[str, str]]:
    """The ``(key, description)`` of each binding the footer shows on ``screen`` (its own and the
    app's), keys of one action joined as ``?/F1``: what ``HelpScreen`` takes, read from the
    screen the help is opened over."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.show and binding.description:
            keys = grouped.setdefault((binding.action, binding.description), [])
            display = screen.app.get_key_display(binding)
            display = display.upper() if re.fullmatch(r"f\d{1,2}", display) else display  # F1, as on the key
            if display not in keys:
                keys.append(display)
    return [("/".join(keys), description) for (_, description), keys in grouped.items()]


def keys_table(keys: Sequence[tuple[str, str]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for key, description in keys:
        table.add_row(key, description)
    return table


GAUGE_TEXT = (
    "The big number is your pelvic tilt against your own neutral posture: positive is anterior "
    "(the pelvis rotates forward, lower back arches, backside out), negative is posterior (the "
    "pelvis tucks under, lower back flattens or rounds). The gauge shades the neutral band and "
    "the two tilt zones; the lines are the thresholds below (change them in the settings)."
)


def hold_text(thresholds: SustainedTiltParams) -> str:
    return (f"Crossing a line is not an alert: an alert comes when you stay beyond it for "
            f"{thresholds.hold_sitting_s:g} s sitting or {thresholds.hold_standing_s:g} s standing. "
            f"Walking, squatting and lying down are never judged as posture, and a squat's forward "
            f"tilt on the way down is normal.")


WEAR_TEXT = (
    "• Place the sensor flat on the sacrum: the flat bony triangle at the base of the spine, just "
    "above the buttock crease and below the belt line, centred between the two dimples of the "
    "lower back.\n"
    "• Orientation, seen from behind: the face with the printed axes points away from your back, "
    "+y up the spine, +x to your right hand. Worn another way is fine: do two or three slow hip "
    "hinges or a few squats and tiltwatch finds the axis from them.\n"
    "• Strap it so it cannot slide: kinesiology tape over it, or an elastic belt pulled snug. A "
    "sensor that shifts moves the zero; if it slips, re-zero."
)

CALIBRATE_TEXT = (
    "1. Standing zero: stand relaxed and still, feet hip-width apart, looking ahead, for 5 s. "
    "That posture becomes 0°. If you move, the dashboard says why and waits for a still moment.\n"
    "2. Sitting zero (optional): sit upright and still for 5 s. Sitting is then judged against "
    "it; without it, against standing with wider sitting thresholds.\n"
    "3. Axis: two or three slow hip hinges (bow forward from the hips, back straight, and come "
    "up) or a few squats.\n"
    "Re-zero each time you put the sensor back on."
)


class HelpScreen(ModalScreen[None]):
    """How to read the dashboard, wear and calibrate the sensor, and the keys.

    ``keys`` is the app's ``(key, description)`` list, so the help always matches its bindings;
    ``thresholds`` draws the zones as the detector will judge them. Closes with Esc, ``q``,
    ``?`` or F1; scrolls with the arrow and page keys.
    """

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-dialog {
        width: 100%; max-width: 100; height: 100%; max-height: 48;
        border: round $accent; border-title-style: bold; background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-body { height: 1fr; scrollbar-gutter: stable; }
    HelpScreen .help-heading { text-style: bold; color: $accent; margin-top: 1; }
    HelpScreen #help-zones, HelpScreen #help-hold { margin-top: 1; }
    HelpScreen #help-disclaimer { margin-top: 1; text-style: italic; }
    """

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help-close"),
    ]

    def __init__(self, keys: Sequence[tuple[str, str]],
                 thresholds: SustainedTiltParams | None = None) -> None:
        super().__init__()
        self.keys = tuple(keys)
        self.thresholds = thresholds or SustainedTiltParams()

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "tiltwatch help"
            dialog.border_subtitle = "↑↓ PgUp PgDn scroll · Esc close"
            with VerticalScroll(id="help-body"):
                yield Label("The gauge and its zones", classes="help-heading")
                yield Static(GAUGE_TEXT, id="help-gauge")
                yield Static(zones_text(self.thresholds), id="help-zones")
                yield Static(hold_text(self.thresholds), id="help-hold")
                yield Label("Wearing the sensor", classes="help-heading")
                yield Static(WEAR_TEXT, id="help-wear")
                yield Label("Calibrating", classes="help-heading")
                yield Static(CALIBRATE_TEXT, id="help-calibrate")
                yield Label("Keys", classes="help-heading")
                yield Static(keys_table(self.keys), id="help-keys")
                yield Static(DISCLAIMER, id="help-disclaimer")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
