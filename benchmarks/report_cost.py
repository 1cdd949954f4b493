"""What the report of a long session costs: render time and size of the HTML, and the PNG.

Simulates a desk day (the simulator's desk scenario back to back, ``--hours`` long, 100 Hz),
analyses it once (timed, for reference) and saves it in a temporary session store. Then, ``--runs``
times each: renders the HTML and the PNG in-process, and runs the whole command
``tiltwatch report SESSION --html OUT --png OUT`` on the stored session (reading it back from the
store included). Prints medians and sizes. Goal (issue 11): an 8-hour session's report renders in
under 10 s and weighs under 2 MB.

    .venv/bin/python benchmarks/report_cost.py [--hours 8] [--runs 3] [--keep DIR]

Needs matplotlib (``pip install -e '.[report]'``). ``--keep DIR`` leaves report.html and
report.png there to look at.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from firmware_interface.simulator import SCENARIOS, Scenario, simulate
from fusion.analysis import analyze_batch
from tui.reports import figures
from tui.cli import main as tiltwatch
from tui.reports.html import render_html
from tui.store import SessionStore

RATE_HZ = 100.0


def desk_day(hours: float, seed: int):
    """Desk scenarios back to back (one calibration stand at the start) until ``hours`` long."""
    rng = np.random.default_rng(seed)
    segments: list = []
    while not segments or Scenario(tuple(segments), "desk day").duration_s < hours * 3600.0:
        scenario = SCENARIOS["desk"](rng)
        segments.extend(scenario.segments if not segments else scenario.segments[1:])
    return simulate(Scenario(tuple(segments), "desk day"), sample_rate_hz=RATE_HZ, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="folder to leave report.html and report.png in")
    args = parser.parse_args()

    started = time.perf_counter()
    session = desk_day(args.hours, args.seed)
    simulated = time.perf_counter()
    analysis = analyze_batch(session.batch, session.info)
    analysed = time.perf_counter()
    print(f"desk day: {analysis.duration_s / 3600:.2f} h, {analysis.samples} samples at {RATE_HZ:g} Hz, "
          f"{len(analysis.activities)} activity spans, {len(analysis.episodes)} episodes, "
          f"{len(analysis.alerts)} alerts (simulated in {simulated - started:.0f} s, "
          f"analysed in {analysed - simulated:.0f} s)")

    html_s, png_s = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        page = render_html(analysis)
        t1 = time.perf_counter()
        picture = figures.png(figures.summary_figure(analysis))
        t2 = time.perf_counter()
        html_s.append(t1 - t0)
        png_s.append(t2 - t1)
    size_mb = len(page.encode("utf-8")) / 1e6
    print(f"HTML: {statistics.median(html_s):.2f} s (median of {args.runs}), {size_mb:.2f} MB "
          f"[goal < 10 s, < 2 MB: {'met' if statistics.median(html_s) < 10 and size_mb < 2 else 'NOT met'}]")
    print(f"PNG:  {statistics.median(png_s):.2f} s, {len(picture) / 1e3:.0f} kB")
    with tempfile.TemporaryDirectory() as store_dir:
        with SessionStore(store_dir) as store:
            session_id = store.save(analysis)
        command_s = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with contextlib.redirect_stderr(io.StringIO()):
                code = tiltwatch(["report", str(session_id), "--data-dir", store_dir,
                                  "--html", f"{store_dir}/r.html", "--png", f"{store_dir}/r.png"])
            command_s.append(time.perf_counter() - t0)
            if code != 0:
                raise SystemExit(f"tiltwatch report exited with {code}")
    print(f"tiltwatch report SESSION --html --png (stored session): {statistics.median(command_s):.2f} s")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "report.html").write_text(page, encoding="utf-8")
        (args.keep / "report.png").write_bytes(picture)
        print(f"kept {args.keep / 'report.html'} and {args.keep / 'report.png'}")


if __name__ == "__main__":
    main()
