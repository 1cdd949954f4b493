"""The history screen: the session store's days or weeks, as ``tiltwatch history`` prints them."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from firmware_interface.errors import TiltwatchError
from tui.store.commands import load_history
from tui.store.views import format_history

DAYS = 14
WEEKS = 12


class HistoryScreen(ModalScreen[None]):
    """The last two weeks by day, or twelve weeks by week (``w``), read from the store in
    ``data_dir`` (None: the default store) on a thread; a store that cannot be read is one line."""

    BINDINGS = [
        Binding("w", "toggle_period", "Days / weeks", id="history-period"),
        Binding("escape,h,q", "dismiss", "Close", id="history-close"),
    ]
    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > VerticalScroll {
        width: 100%; max-width: 130; height: 100%; max-height: 30;
        border: round $accent; padding: 0 1; background: $surface;
    }
    HistoryScreen #history-title { text-style: bold; }
    HistoryScreen HorizontalScroll { height: auto; }
    HistoryScreen #history-table { width: auto; }
    HistoryScreen #history-legend { color: $text-muted; }
    """

    def __init__(self, data_dir: str | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.weekly = False

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="history-title")
            with HorizontalScroll():  # the table is ~100 columns: scroll sideways on a small terminal
                yield Static("reading the session store ...", id="history-table", markup=False)
            yield Static("", id="history-legend", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_toggle_period(self) -> None:
        self.weekly = not self.weekly
        self.load()

    @work(thread=True, exclusive=True, group="history")
    def load(self) -> None:
        weekly = self.weekly
        title = f"History: the last {WEEKS} weeks" if weekly else f"History: the last {DAYS} days"
        try:
            rows = load_history(self.data_dir, weeks=WEEKS) if weekly else load_history(self.data_dir, days=DAYS)
            text = format_history(rows, weekly)
        except TiltwatchError as error:
            text = str(error)
        self.app.call_from_thread(self._show, title, text)

    def _show(self, title: str, text: str) -> None:
        self.query_one("#history-title", Static).update(f"{title}  (w: days / weeks · Esc: close)")
        table, _, legend = text.rpartition("\n") if "\n" in text else (text, "", "")
        self.query_one("#history-table", Static).update(table)
        self.query_one("#history-legend", Static).update(legend)
