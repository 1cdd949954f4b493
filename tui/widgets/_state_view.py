"""The reactive every dashboard widget renders from (bound to ``TiltwatchApp.state``)."""

from __future__ import annotations

from typing import Hashable

from textual.visual import VisualType
from textual.widgets import Static

from tui.dashboard_state import DashboardState


class StateView:
    """Mixin: shows the ``DashboardState`` the app hands to ``show_state``; subclasses implement
    ``watch_state`` to redraw what changed.

    A plain call rather than a reactive bound to the app's (``data_bind``): the app hands a new
    state to every view at each redraw, and Textual's reactive machinery around nine watchers cost
    as much as the watchers themselves.
    """

    state: DashboardState = DashboardState()
    _showing = False

    def show_state(self, state: DashboardState) -> None:
        """Keep ``state`` and redraw from it (once the view has started showing: it is mounted)."""
        self.state = state
        # Not while the view closes (its parts may be gone already), as Textual skips watchers then.
        if self._showing and self.is_attached and not self._closing:
            self.watch_state(state)

    def start_showing(self, state: DashboardState) -> None:
        """Called once the view is mounted (its parts composed)."""
        self._showing = True
        self.show_state(state)

    def watch_state(self, state: DashboardState) -> None:
        raise NotImplementedError


def show(static: Static, content: VisualType, key: Hashable | None = None, *, fixed_size: bool = False) -> None:
    """Update ``static`` only when what it shows changes (``key``, or the text itself).

    A layout pass of the whole screen is asked for only when the text may change the widget's
    height (a different number of lines, or a line too long for the width) and the stylesheet
    does not fix its size; at 20 redraws a second most updates are a number changing in place.
    """
    key = content if key is None else key
    previous = getattr(static, "_shown_key", None)
    if previous == key:
        return
    static._shown_key = key
    static.update(content, layout=not (fixed_size or _same_shape(previous, content, static.content_size.width)))


def _same_shape(previous: object, content: object, width: int) -> bool:
    """Both texts take one row per line (none wraps) and have as many lines."""
    if not (isinstance(previous, str) and isinstance(content, str)):
        return False
    lines, previous_lines = content.split("\n"), previous.split("\n")
    return len(lines) == len(previous_lines) and max(map(len, lines + previous_lines)) <= width
