"""Samples lost on one live source, run by run (issue 9: 0 lost at 200 Hz on every emulated sensor).

Runs the dashboard headless exactly as ``live_cost.py`` part 2 does (``live_cost.live_run``),
``--runs`` times, and prints every run rather than medians: the loss on the link panel, samples
that arrived but are not in the recording, the loss ``tiltwatch info`` reads (those three from
sample times, as live_cost shows them, here to 0.01 %), and what the link's gap markers report
missing (decoders: arrival deficit, sequence numbers, timestamps, unpaired halves). A false gap
whose hole the clock closes again by pulling later samples in shows only in the last column.

    python benchmarks/live_loss.py metamotion --rate 200 --runs 5 [--hog] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import live_cost  # puts the repository on the path

from firmware_interface.emulated import MODELS  # noqa: E402
from firmware_interface.source_spec import EmulatedSensor, Simulation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=["sim", *MODELS], help="the simulator or an emulated sensor")
    parser.add_argument("--rate", type=float, default=200.0, help="sample rate (default 200)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument("--seconds", type=float, default=15.0, help="wall time of each run (default 15)")
    parser.add_argument("--hog", action="store_true", help="a CPU hog (while True: pass) in another process")
    args = parser.parse_args()
    if args.source == "sim":
        description = Simulation("mixed", rate_hz=args.rate, seed=1, loop=True)
    else:
        description = EmulatedSensor(args.source, rate_hz=args.rate, scenario="mixed", seed=1)

    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    print(f"{args.source} at {args.rate:g} Hz, {args.seconds:g} s per run{', CPU hog' if hog else ''}")
    print(f"{'run':>4}{'shown':>9}{'unrec':>7}{'info':>9}{'marked':>9}{'gaps':>6}")
    try:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                result = asyncio.run(live_cost.live_run(args.source, description, args.seconds, Path(tmp)))
            print(f"{run + 1:>4}{result.shown_loss_pct:>8.2f}%{result.unrecorded:>7}{result.info_loss_pct:>8.2f}%"
                  f"{result.marked_loss_pct:>8.2f}%{result.gaps:>6}", flush=True)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


if __name__ == "__main__":
    main()
