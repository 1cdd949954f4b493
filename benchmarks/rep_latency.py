"""How soon the live dashboard shows a squat rep: the squat demo over an emulated sensor.

Runs the dashboard headless on ``tiltwatch demo --scenario squat``'s source (an emulated sensor
streaming the simulated wearer over the virtual Bluetooth LE link) and prints, as each rep
appears on screen, the wall time since the start and how long after the rep's top (its end, in
device time) it was shown. The pipeline judges reps once per detection hop (in a squat set
``fusion.pipeline.Pipeline.MOVING_DETECT_HOP_S``), after the rep's closing top is confirmed.

    python benchmarks/rep_latency.py [--sensor wt901] [--rate 100] [--seed 1] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_interface.emulated import MODELS  # noqa: E402
from firmware_interface.source_spec import EmulatedSensor, open_source  # noqa: E402
from fusion.pipeline import Pipeline  # noqa: E402
from tui.app import make_app  # noqa: E402


async def run(sensor: str, rate_hz: float, seed: int, seconds: float) -> list[float]:
    lags = []
    async with open_source(EmulatedSensor(sensor, rate_hz=rate_hz, scenario="squat", seed=seed)) as source:
        app = make_app(source, Pipeline.for_source(source.info))
        async with app.run_test(headless=True, size=(120, 40)):
            start, shown = time.monotonic(), 0
            while time.monotonic() - start < seconds:
                await asyncio.sleep(0.1)
                state = app.state
                if len(state.reps) > shown and state.now_s is not None:
                    shown = len(state.reps)
                    rep = state.reps[-1]
                    lags.append(state.now_s - rep.end_s)
                    wink = " (butt wink)" if rep.butt_wink else ""
                    print(f"{time.monotonic() - start:5.1f} s: rep {shown}{wink} shown {lags[-1]:.1f} s after its top")
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensor", choices=sorted(MODELS), default="wt901")
    parser.add_argument("--rate", type=float, default=100.0, help="sample rate, Hz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=40.0, help="wall time to run")
    args = parser.parse_args()
    lags = asyncio.run(run(args.sensor, args.rate, args.seed, args.seconds))
    if not lags:
        raise SystemExit("no rep was shown")
    print(f"{len(lags)} reps; shown {statistics.median(lags):.1f} s after their top (median), "
          f"{min(lags):.1f}-{max(lags):.1f} s")


if __name__ == "__main__":
    main()
