"""The reactive every dashboard widget renders from (bound to ``TiltwatchApp.state``)."""

from __future__ import annotations

from textual.reactive import reactive

from tui.dashboard_state import DashboardState


class StateView:
    """Mixin: a ``state`` reactive; subclasses implement ``watch_state`` to redraw."""

    state: reactive[DashboardState] = reactive(DashboardState, always_update=True)
