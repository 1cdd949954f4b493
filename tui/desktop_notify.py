"""Desktop notifications where the desktop offers them: optional, never required, never fatal.

``desktop-notifier`` (the ``notify`` extra) talks to the platform's notification service
(D-Bus on Linux, the notification centre on macOS, toasts on Windows). Without it, or without a
desktop, alerts still show on the dashboard; a failed notification is logged, not raised.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


class DesktopNotifier:
    def __init__(self, enabled: bool = True, app_name: str = "tiltwatch") -> None:
        self._notifier: Any = None
        if not enabled:
            return
        try:
            from desktop_notifier import DesktopNotifier as _Notifier
        except ImportError:
            return
        try:
            self._notifier = _Notifier(app_name=app_name)
        except Exception:  # no desktop session (a server, a container): stay silent
            logger.debug("desktop notifications unavailable", exc_info=True)

    @property
    def available(self) -> bool:
        return self._notifier is not None

    def send(self, app: Any, title: str, message: str) -> None:
        """Send in the background on ``app``'s loop (a Textual app's ``run_worker``)."""
        if self._notifier is None:
            return

        async def deliver() -> None:
            try:
                await self._notifier.send(title=title, message=message)
            except Exception:  # the dashboard still shows the alert
                logger.debug("desktop notification failed", exc_info=True)

        app.run_worker(deliver(), group="desktop-notify", exit_on_error=False)
