"""Logging for the command line: ``-v``/``-q`` on stderr, and a log file in the user's log
directory for what a bug report needs (connection attempts, reconnects, errors).

Nothing sensitive is logged by tiltwatch's modules (no samples, no file contents). The file
(``tiltwatch.log``, rotated at 1 MB, 3 kept) is created 0600 in a 0700 directory, only when
something is logged; ``$TILTWATCH_LOG_DIR`` puts it elsewhere.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

ENV_LOG_DIR = "TILTWATCH_LOG_DIR"
LOG_NAME = "tiltwatch.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    if os.environ.get(ENV_LOG_DIR):
        return Path(os.environ[ENV_LOG_DIR])
    import platformdirs

    return Path(platformdirs.user_log_dir("tiltwatch", appauthor=False))


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    def _open(self):  # created readable by the user only, in a private directory
        directory = Path(self.baseFilename).parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding)


def setup_logging(verbosity: int) -> None:
    """``verbosity``: -1 quiet (errors only on stderr), 0 warnings, 1 info, 2 debug. The file
    always gets info and above."""
    root = logging.getLogger()
    logging.getLogger("bumble").setLevel(logging.WARNING)  # the virtual radio's chatter is not ours
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    stderr = logging.StreamHandler()
    stderr.setLevel({-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    stderr.setFormatter(logging.Formatter("tiltwatch: %(levelname)s: %(message)s"))
    root.addHandler(stderr)
    try:
        handler = _PrivateFileHandler(log_dir() / LOG_NAME, maxBytes=1_000_000, backupCount=3, delay=True)
    except OSError:
        return  # no log file is no reason to stop
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
