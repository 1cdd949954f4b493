"""Running the dashboard as the CLI does: open the source, build its pipeline and recording, run
the app (``tui.app``) until it quits, and turn a source failure into the CLI's one line."""

from __future__ import annotations

import asyncio
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Callable

from firmware_interface.errors import TiltwatchError
from firmware_interface.sources import Source
from fusion.settings import Settings
from tui.app import Mode, make_app
from tui.dashboard_state import ViewMode


def run_dashboard(open_source: Callable[[], AbstractAsyncContextManager[Source]], *, mode: Mode = "live",
                  record_path: str | None = None, settings: Settings | None = None,
                  config_path: Path | str | None = None, data_dir: str | None = None, headless: bool = False,
                  view: ViewMode = "auto") -> int:
    """Open the source, build its pipeline (and recording), run the dashboard; the exit code.
    ``headless``: no terminal output (tests and benchmarks; keys only by signal). ``view``: the
    view to start in (desk, squat or auto). ``config_path``: the settings file the settings
    screen saves to (the one ``settings`` came from; None: the default file). ``data_dir``: the
    session store the history screen reads.

    A source that failed while the dashboard ran is raised again as a ``TiltwatchError`` once the
    screen is gone, so the CLI prints its line and exits non-zero.
    """
    from firmware_interface.recording import RecordingWriter
    from firmware_interface.recording.writer import LIVE_WRITE_INTERVAL_S
    from fusion.pipeline import Pipeline

    async def run() -> int:
        async with open_source() as source:
            def new_pipeline() -> Pipeline:
                return Pipeline.for_source(source.info, settings=settings)

            recorder = (RecordingWriter(Path(record_path), source.info, write_interval_s=LIVE_WRITE_INTERVAL_S)
                        if record_path else None)
            alerts = (settings or Settings()).alerts
            app = make_app(source, new_pipeline(), recorder=recorder, mode=mode, view=view,
                           pipeline_factory=new_pipeline, bell=alerts.bell,
                           desktop_notifications=alerts.desktop_notification, snooze_s=alerts.snooze_s,
                           config_path=config_path, data_dir=data_dir)
            loop = asyncio.get_running_loop()
            # SIGTERM (and a SIGINT sent from outside: in the terminal Ctrl+C is a key) quit at once.
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, lambda: asyncio.ensure_future(app.run_action("quit_now")))
            try:
                code = await app.run_async(headless=headless)
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
                app.close_recording()  # done already unless the app failed to start
        if app.state.stream == "failed":
            # Repeat the one line on the terminal the dashboard has left.
            raise TiltwatchError(app.state.stream_message)
        return code if code is not None else 0

    return asyncio.run(run())
