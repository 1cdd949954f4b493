"""The store's commands: ``tiltwatch sessions``, ``history`` and ``compare``."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from fusion.session import SessionAnalysis
from fusion.settings import settings_from_args
from tui.reports.json_report import analysis_json
from tui.store.db import SessionStore
from tui.store.headline import headline
from tui.store.views import (HistoryRow, compare_figures, format_compare, format_history, format_sessions,
                             history_json, history_rows, sessions_json)


def sessions(args: argparse.Namespace) -> int:
    with SessionStore(args.data_dir) as store:
        stored = store.sessions()
    print(json.dumps(sessions_json(stored), indent=2) if args.json else format_sessions(stored))
    return 0


def history(args: argparse.Namespace) -> int:
    weekly = args.weeks is not None
    rows = load_history(args.data_dir, weeks=args.weeks) if weekly else load_history(args.data_dir, days=args.days)
    print(json.dumps(history_json(rows), indent=2) if args.json else format_history(rows, weekly))
    return 0


def load_history(data_dir: str | None, *, days: int | None = None, weeks: int | None = None) -> list[HistoryRow]:
    """The store's sessions of the last ``days`` (default 14) or ``weeks``, a row a day or week
    (the CLI's ``history`` and the dashboard's history screen)."""
    weekly = weeks is not None
    today = date.today()
    first = today - timedelta(days=7 * weeks - 1 if weekly else (days or 14) - 1)
    if weekly:
        first -= timedelta(days=first.weekday())
    since = datetime.combine(first, datetime.min.time()).astimezone().astimezone(timezone.utc)
    with SessionStore(data_dir) as store:
        # A day's start in UTC may be the previous UTC day: read from a day earlier, group locally.
        stored = [s for s in store.sessions((since - timedelta(days=1)).isoformat()) if s.started.date() >= first]
    return history_rows(stored, first, today, weekly)


def compare(args: argparse.Namespace, analyze_file: Callable[..., SessionAnalysis]) -> int:
    sides = []
    with SessionStore(args.data_dir) as store:
        for ref in (args.a, args.b):
            if ref.isdigit() and not Path(ref).exists():
                session_id = int(ref)
                store.session(session_id)  # one line if there is no such session
                obj = store.analysis(session_id)
                sides.append((f"session {session_id}", obj))
                continue
            stored = store.find_recording(ref)
            if stored is not None:
                sides.append((f"session {stored.id}", store.analysis(stored.id)))
                continue
            result = analyze_file(args, ref, settings_from_args(args), {})
            if not args.no_store:
                store.save(result)
            sides.append((Path(ref).name[:14], analysis_json(result)))
    (name_a, a), (name_b, b) = sides
    print(format_compare(name_a, name_b, compare_figures(a, b, headline(a), headline(b))))
    return 0
