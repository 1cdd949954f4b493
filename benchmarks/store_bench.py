"""Session store at a year's scale: list sessions, a year's history, compare two sessions.

Fills a store in a temporary directory with a synthetic year (365 desk days and 150 squat
sessions: one simulated desk session and one simulated squat session, analysed once and stored
under each day's date; no real data), then times each command as the user runs it (a child
process, start-up included) and in process (the store's work alone), and prints the medians:

    .venv/bin/python benchmarks/store_bench.py [--runs 5]

Goal (issue 11): listing and a year's history under 1 s, comparing two sessions under 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from firmware_interface.simulator import simulate
from fusion.analysis import analyze_batch
from tui.store import SessionStore

DESK_DAYS = 365
SQUAT_SESSIONS = 150


def fill(directory: Path) -> int:
    analyses = {}
    for scenario, seed in (("desk", 1), ("squat", 2)):
        session = simulate(scenario, sample_rate_hz=50.0, seed=seed)
        analyses[scenario] = analyze_batch(session.batch, session.info)
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    with SessionStore(directory) as store:
        for day in range(DESK_DAYS):
            start = today - timedelta(days=day)
            store.save(_dated(analyses["desk"], start))
            if day % 73 < 30:  # 150 squat days spread over the year
                store.save(_dated(analyses["squat"], start + timedelta(hours=9)))
        return len(store.sessions())


def _dated(analysis, start: datetime):
    return replace(analysis, source=replace(analysis.source, started_utc=start.isoformat(), file=None))


def median_s(argv: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_process_s(directory: Path, runs: int) -> dict[str, float]:
    """The commands' own work (opening the store, querying, rendering), without start-up."""
    from datetime import date

    from tui.store.headline import headline
    from tui.store.views import compare_figures, format_compare, format_history, format_sessions, history_rows

    def listing() -> None:
        with SessionStore(directory) as store:
            format_sessions(store.sessions())

    def year() -> None:
        today = date.today()
        with SessionStore(directory) as store:
            format_history(history_rows(store.sessions(), today - timedelta(days=364), today, False), False)

    def compare() -> None:
        with SessionStore(directory) as store:
            a, b = store.analysis(1), store.analysis(2)
        format_compare("1", "2", compare_figures(a, b, headline(a), headline(b)))

    result = {}
    for label, work in (("sessions", listing), ("history, a year by day", year), ("compare", compare)):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        result[label] = statistics.median(times)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (default 5)")
    parser.add_argument("--tiltwatch", default=str(Path(sys.executable).with_name("tiltwatch")))
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="tiltwatch-store-bench-"))
    try:
        started = time.perf_counter()
        count = fill(directory / "data")
        print(f"stored {count} sessions in {time.perf_counter() - started:.1f} s; "
              f"database {(directory / 'data' / 'sessions.sqlite3').stat().st_size / 1e6:.1f} MB")
        for label, seconds in in_process_s(directory / "data", args.runs).items():
            print(f"in process: {label:22s} median {seconds:.3f} s over {args.runs} runs")
        env = {**os.environ, "TILTWATCH_DATA_DIR": str(directory / "data")}
        tw = args.tiltwatch
        for label, argv in (("sessions", [tw, "sessions"]), ("sessions --json", [tw, "sessions", "--json"]),
                            ("history --days 365", [tw, "history", "--days", "365"]),
                            ("history --weeks 52", [tw, "history", "--weeks", "52"]),
                            ("compare 1 2", [tw, "compare", "1", "2"]),
                            ("--version (start-up alone)", [tw, "--version"])):
            print(f"{label:28s} median {median_s(argv, args.runs, env):.3f} s over {args.runs} runs", flush=True)
    finally:
        shutil.rmtree(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
