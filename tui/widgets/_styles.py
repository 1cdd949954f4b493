"""Component styles kept between redraws, for the widgets that redraw several times a second."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


class CachedComponentStyles:
    """Mixin: ``component_style(name)`` is ``get_component_rich_style(name)``, kept until the
    widget's CSS or the app's theme changes.

    Textual forgets its own copy at every refresh, and working a component style out walks the
    widget's ancestors: for the chart and the gauge's bar, redrawn several times a second, that
    was most of the cost of a redraw.
    """

    _component_style_cache: dict[str, Style] | None = None
    _component_style_theme: str | None = None

    def component_style(self: Widget, name: str) -> Style:
        theme = self.app.theme
        if self._component_style_cache is None or self._component_style_theme != theme:
            self._component_style_cache, self._component_style_theme = {}, theme
        style = self._component_style_cache.get(name)
        if style is None:
            style = self._component_style_cache[name] = self.get_component_rich_style(name)
        return style

    def notify_style_update(self) -> None:
        self._component_style_cache = None
        super().notify_style_update()
