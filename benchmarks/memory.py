"""Peak resident memory of `tiltwatch info` and `tiltwatch analyze --json` against recording length.

Writes a synthetic N-hour 100 Hz recording (gravity, a slow sway, noise: no real data), then runs
each command in its own child process and prints the child's peak RSS (``ru_maxrss``):

    .venv/bin/python benchmarks/memory.py --hours 1 2 --commands info analyze

The recordings go to a temporary directory (about 25 MB per hour) and are deleted afterwards;
``analyze`` saves its analysis in a session store there too (as it does by default), never in the
user's data directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from firmware_interface.recording import RecordingWriter
from firmware_interface.samples import SampleBatch, SourceInfo

RATE_HZ = 100.0
PIECE_S = 600.0

# Run one command in a grandchild and report that grandchild's peak RSS alone.
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.stderr.strip()[-300:])
"""


def write_recording(path: Path, hours: float, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    info = SourceInfo("Synthetic IMU", "sim", RATE_HZ, extra={"benchmark": "memory"})
    n_total = int(hours * 3600 * RATE_HZ)
    with RecordingWriter(path, info) as writer:
        for start in range(0, n_total, int(PIECE_S * RATE_HZ)):
            n = min(int(PIECE_S * RATE_HZ), n_total - start)
            t = (start + np.arange(n)) / RATE_HZ
            sway = 0.2 * np.sin(2 * np.pi * t / 40.0)
            acc = np.column_stack([9.80665 * np.sin(sway), 9.80665 * np.cos(sway), np.zeros(n)])
            gyr = np.column_stack([np.zeros((n, 2)), 0.2 * 2 * np.pi / 40.0 * np.cos(2 * np.pi * t / 40.0)])
            writer.append(SampleBatch(t, acc + rng.normal(0, 0.05, (n, 3)), gyr + rng.normal(0, 0.01, (n, 3))))
    return n_total


def peak_rss_mb(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=True,
                         env=env)
    code, kib, *err = out.stdout.split(" ", 2)
    return int(code), int(kib) / 1024.0, time.perf_counter() - started, (err[0].strip() if err else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0], help="recording lengths (default 1)")
    parser.add_argument("--commands", nargs="+", choices=("info", "analyze"), default=["info", "analyze"])
    parser.add_argument("--tiltwatch", default=str(Path(sys.executable).with_name("tiltwatch")),
                        help="the tiltwatch executable (default: beside this Python)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tiltwatch-memory-"))
    try:
        print(f"{'hours':>5} {'rows':>9} {'MB file':>7} {'command':>8} {'peak RSS MB':>11} {'wall s':>7}")
        for hours in args.hours:
            path = tmp / f"{hours:g}h.csv"
            rows = write_recording(path, hours)
            size_mb = path.stat().st_size / 1e6
            for command in args.commands:
                argv = [args.tiltwatch, command, str(path)] + (["--json"] if command == "analyze" else [])
                code, rss_mb, wall_s, err = peak_rss_mb(argv, {**os.environ, "TILTWATCH_DATA_DIR": str(tmp / "data")})
                note = "" if code == 0 else f"  exit {code}: {err}"
                print(f"{hours:5g} {rows:9d} {size_mb:7.1f} {command:>8} {rss_mb:11.1f} {wall_s:7.1f}{note}",
                      flush=True)
            path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
