"""Component styles kept between redraws, for the widgets that redraw several times a second."""

from __future__ import annotations

from rich.style import Style
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Label, Static


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


class KeptLines:
    """Mixin for a ``Static``: the lines drawn for each text are kept (until the size or the CSS
    changes), for a number that flicks among a few values several times a second."""

    KEPT_TEXTS = 128
    _kept_lines: dict[tuple, list[Strip]] | None = None

    def render_line(self: Static, y: int) -> Strip:
        content = self.content
        key = (content if isinstance(content, str) else id(content), self.size, self.app.theme)
        if self._kept_lines is None or len(self._kept_lines) >= self.KEPT_TEXTS:
            self._kept_lines = {}
        lines = self._kept_lines.get(key)
        if lines is None:
            width, height = self.size
            lines = self._kept_lines[key] = Visual.to_strips(self, self.visual, width, height, self.visual_style)
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        self._kept_lines = None
        super().notify_style_update()


class KeptLinesStatic(KeptLines, Static):
    pass


class KeptLinesLabel(KeptLines, Label):
    pass
