"""The help screen on its own: opened and closed by its keys, zones drawn from the thresholds given."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.app import App
from textual.binding import Binding
from textual.containers import VerticalScroll

from fusion.corrections import DISCLAIMER
from fusion.detection.sustained_tilt import SustainedTiltParams
from tui.screens.help import STRIP_CELLS, HelpScreen, zone_strip

KEYS = [("c", "Zero standing"), ("s", "Zero sitting"), ("z", "Snooze alerts"), ("?  F1", "This help"),
        ("q", "Quit")]


def text_of(widget) -> str:
    """What a Static shows, as plain text (tables included)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text().strip()


class HelpHost(App):
    BINDINGS = [Binding("question_mark,f1", "help", "Help")]

    def __init__(self, thresholds: SustainedTiltParams | None = None) -> None:
        super().__init__()
        self.thresholds = thresholds

    def action_help(self) -> None:
        self.push_screen(HelpScreen(KEYS, self.thresholds))


@pytest.mark.parametrize("open_key, close_key", [("question_mark", "escape"), ("f1", "f1"),
                                                 ("question_mark", "question_mark"), ("f1", "q")])
async def test_help_opens_and_closes_with_its_keys(open_key, close_key):
    app = HelpHost()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(open_key)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press(close_key)
        assert not isinstance(app.screen, HelpScreen)


async def test_help_lists_the_keys_it_is_given_and_the_disclaimer():
    app = HelpHost()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        keys = text_of(app.screen.query_one("#help-keys"))
        for key, description in KEYS:
            assert key in keys and description in keys
        assert text_of(app.screen.query_one("#help-disclaimer")) == DISCLAIMER
        for section in ("#help-wear", "#help-calibrate"):
            assert text_of(app.screen.query_one(section))
        assert "sacrum" in text_of(app.screen.query_one("#help-wear"))


async def test_zones_and_hold_times_follow_the_thresholds_given():
    thresholds = SustainedTiltParams(standing_anterior_deg=14.0, standing_posterior_deg=-6.0, hold_sitting_s=90.0)
    app = HelpHost(thresholds)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        zones = text_of(app.screen.query_one("#help-zones"))
        assert "+14°" in zones and "−6°" in zones and "−20°" in zones
        assert "90 s sitting" in text_of(app.screen.query_one("#help-hold"))


def test_zone_strip_marks_each_cell_by_its_zone():
    strip = zone_strip(10.0, -8.0, "Standing").plain.splitlines()[1]
    cells = strip[2:2 + STRIP_CELLS]
    cell_deg = 60.0 / (STRIP_CELLS - 1)
    for i, char in enumerate(cells):
        angle = (i - STRIP_CELLS // 2) * cell_deg
        expected = "▓" if angle > 10.0 else "░" if angle < -8.0 else ("┼" if angle == 0 else "─")
        assert char == expected, (i, angle)


async def test_help_scrolls_to_the_keys_at_80x24():
    app = HelpHost()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.has_focus and body.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_help_snapshot(snap_compare, size):
    assert snap_compare(HelpHost(), terminal_size=size, press=["f1"])


async def test_binding_keys_lists_what_the_footer_shows():
    from tui.screens.help import binding_keys

    class Dashboard(App):
        BINDINGS = [Binding("question_mark,f1", "help", "Help"), Binding("c", "calibrate", "Zero standing"),
                    Binding("x", "secret", "Hidden", show=False)]

    app = Dashboard()
    async with app.run_test(size=(80, 24)):
        keys = binding_keys(app.screen)
    assert ("?/F1", "Help") in keys
    assert ("c", "Zero standing") in keys
    assert all(description != "Hidden" for _, description in keys)
