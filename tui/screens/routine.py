"""The guided routine screen: warm-up drills and cool-down stretches paced by a breath pacer."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from fusion.corrections import DISCLAIMER, Pattern
from fusion.routines import PacerState, RoutinePlayer, TiltPattern, routine_for

BAR_CELLS = 30


def clock_text(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def bar(fraction: float, cells: int = BAR_CELLS, style: str = "") -> Text:
    filled = round(max(0.0, min(1.0, fraction)) * cells)
    text = Text("█" * filled, style=style)
    text.append("░" * (cells - filled), style="dim")
    return text


def pacer_text(state: PacerState) -> Text:
    """"BREATHE IN" with a bar that fills, "BREATHE OUT" with one that empties, and the count."""
    step = state.step
    if state.paused:
        return Text.assemble(("PAUSED", "bold reverse"), f"  space resumes · breath {state.breath} of {step.breaths}")
    if state.inhaling:
        word, fill, style = "BREATHE IN ", state.phase_fraction, "bold cyan"
    else:
        word, fill, style = "BREATHE OUT", 1.0 - state.phase_fraction, "bold #87d75f"
    text = Text(word, style=style)
    text.append("  ")
    text.append_text(bar(fill, style=style))
    text.append(f"  breath {state.breath} of {step.breaths}")
    return text


class RoutineScreen(Screen[None]):
    """The routine for the wearer's measured ``pattern`` ("anterior", "posterior" or "butt_wink";
    for a butt wink, ``tilt_pattern`` chooses the cool-down stretches; see ``fusion.routines``).

    Each position lasts ten slow breaths, shown by a breath pacer, with the exercise k of n and
    the time left. Space pauses, ``n``/→ skips, ``b``/← goes back, Esc closes. Time comes from
    ``clock`` (seconds, monotonic), read every ``tick_interval_s``; tests pass a fake clock and
    call ``tick()``.
    """

    DEFAULT_CSS = """
    RoutineScreen { align: center middle; }
    RoutineScreen #routine-panel {
        width: 100%; max-width: 90; height: auto; max-height: 100%;
        border: round $accent; border-title-style: bold; padding: 0 1;
    }
    RoutineScreen #routine-panel.-paused { border: round $warning; }
    RoutineScreen #routine-block { text-style: bold; color: $accent; }
    RoutineScreen #routine-exercise { margin-top: 1; text-style: bold; }
    RoutineScreen #routine-pacer { margin-top: 1; }
    RoutineScreen #routine-times { margin-top: 1; }
    RoutineScreen #routine-next, RoutineScreen #routine-disclaimer { color: $text-muted; }
    RoutineScreen #routine-next { margin-top: 1; }
    RoutineScreen #routine-note { color: $text-warning; margin-top: 1; }
    RoutineScreen #routine-note.-empty { display: none; }
    RoutineScreen #routine-disclaimer { margin-top: 1; text-style: italic; }
    RoutineScreen .-finished #routine-how, RoutineScreen .-finished #routine-pacer,
    RoutineScreen .-finished #routine-times, RoutineScreen .-finished #routine-next { display: none; }
    """

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume", id="routine-pause"),
        Binding("n,right", "skip", "Skip", id="routine-skip", tooltip="Next exercise"),
        Binding("b,left", "back", "Back", id="routine-back", tooltip="Previous exercise"),
        Binding("escape,q", "close", "Close", id="routine-close"),
    ]

    def __init__(self, pattern: Pattern, tilt_pattern: TiltPattern | None = None, *,
                 clock: Callable[[], float] = time.monotonic, tick_interval_s: float = 0.25) -> None:
        super().__init__()
        self.routine = routine_for(pattern, tilt_pattern)
        self.player = RoutinePlayer(self.routine)
        self._clock = clock
        self._tick_interval_s = tick_interval_s
        self._last_s = clock()

    def compose(self) -> ComposeResult:
        with Vertical(id="routine-panel") as panel:
            panel.border_title = self.routine.title
            yield Static(id="routine-block")
            yield Static(id="routine-count")
            yield Static(id="routine-exercise")
            yield Static(id="routine-how")
            yield Static(id="routine-pacer")
            yield Static(id="routine-times")
            yield Static(id="routine-next")
            yield Static(self.routine.note, id="routine-note", classes="" if self.routine.note else "-empty")
            yield Static(DISCLAIMER, id="routine-disclaimer")
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        self.set_interval(self._tick_interval_s, self.tick)

    def tick(self) -> None:
        """Let the time since the last tick pass, then show where the routine is."""
        now = self._clock()
        self.player.advance(now - self._last_s)
        self._last_s = now
        self.show()

    def show(self) -> None:
        state = self.player.state()
        panel = self.query_one("#routine-panel")
        panel.border_subtitle = "PAUSED" if state.paused else ""
        panel.set_class(state.paused, "-paused")
        panel.set_class(state.finished, "-finished")
        if state.finished:
            self._show_end()
            return
        step = state.step
        block = next(b for b in self.routine.blocks if b.title == step.block)
        self.query_one("#routine-block", Static).update(f"{block.title}: {block.purpose}")
        rounds = f" · round {step.round} of {step.rounds}" if step.rounds > 1 else ""
        self.query_one("#routine-count", Static).update(
            f"Exercise {state.step_index + 1} of {state.step_count}{rounds}")
        self.query_one("#routine-exercise", Static).update(
            Text.assemble((step.title, "bold"), (f"  ({step.exercise.target})", "")))
        self.query_one("#routine-how", Static).update(step.exercise.how)
        self.query_one("#routine-pacer", Static).update(pacer_text(state))
        done = 1.0 - state.routine_left_s / self.routine.duration_s
        times = Text(f"This exercise {clock_text(state.step_left_s)} left · {block.title} "
                     f"{clock_text(state.block_left_s)} left · all {clock_text(state.routine_left_s)} left\n")
        times.append_text(bar(done, BAR_CELLS * 2, style="bold"))
        self.query_one("#routine-times", Static).update(times)
        upcoming = self.routine.steps[state.step_index + 1:state.step_index + 2]
        self.query_one("#routine-next", Static).update(
            f"Next: {upcoming[0].title}" if upcoming else "Next: done")

    def _show_end(self) -> None:
        self.query_one("#routine-block", Static).update("Routine done")
        self.query_one("#routine-count", Static).update(
            f"{len(self.routine.steps)} exercises, {clock_text(self.routine.duration_s)} in all.")
        self.query_one("#routine-exercise", Static).update(
            "Repeat it at least three times a week: posture changes slowly, not overnight.")

    def action_toggle_pause(self) -> None:
        self.tick()  # time up to the key press counts; none after it while paused
        self.player.toggle_pause()
        self.show()

    def action_skip(self) -> None:
        self.tick()
        self.player.skip()
        self.show()

    def action_back(self) -> None:
        self.tick()
        self.player.back()
        self.show()

    def action_close(self) -> None:
        self.dismiss(None)
