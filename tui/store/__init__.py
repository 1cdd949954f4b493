"""The local session store: every analysed file and every live session, with its analysis, in an
SQLite database in the user's data directory (``tui.store.db``); listings, history and comparisons
read it (``tui.store.views``)."""

from tui.store.db import (SessionStore, StoreError, StoredSession, data_dir, new_recording_path, save_recording,
                          save_session)

__all__ = ["SessionStore", "StoreError", "StoredSession", "data_dir", "new_recording_path", "save_recording",
           "save_session"]
