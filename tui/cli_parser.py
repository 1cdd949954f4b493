"""The ``tiltwatch`` command line's grammar: every command, option and its one-line error."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from firmware_interface.errors import UsageError
from fusion.settings import add_cli_arguments

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _version() -> str:
    try:
        return version("tiltwatch")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


class _Parser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one line naming the command and the fix."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


SCENARIO_NAMES = ("desk", "squat", "hinge", "mixed")
"""The simulator's scenarios (``firmware_interface.simulator.SCENARIOS``; a test keeps them equal)."""
SCENARIO_HELP = "simulated activity: desk, squat, hinge or mixed"
PROFILE_KEYS = ("wt901", "dot", "thingy", "metamotion", "open")


def _add_sensor_options(p: argparse.ArgumentParser, *, address: bool) -> None:
    if address:
        p.add_argument("address", nargs="?", help="Bluetooth address (or macOS UUID) of the sensor")
        p.add_argument("--name", metavar="PATTERN", help="connect to the first sensor whose name matches PATTERN")
        p.add_argument("--profile", choices=PROFILE_KEYS, help="force the device profile instead of recognising it")
    p.add_argument("--rate", type=float, metavar="HZ", help="sample rate to configure (default: the profile's)")
    p.add_argument("--emulate", choices=PROFILE_KEYS, metavar="PROFILE",
                   help=f"use an emulated sensor over a virtual BLE link instead of a real one ({', '.join(PROFILE_KEYS)})")
    p.add_argument("--faults", metavar="SPEC",
                   help="emulated faults, e.g. 'disconnect@8,loss=2%%,malformed=1%%,stall@20'")
    p.add_argument("--scenario", default="mixed", help=f"{SCENARIO_HELP} (emulated sensors; default mixed)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulated wearer (default: random)")


def _add_live_recording_options(p: argparse.ArgumentParser) -> None:
    """A live session is recorded and its analysis stored unless asked otherwise."""
    recording = p.add_mutually_exclusive_group()
    recording.add_argument("--record", metavar="OUT",
                           help="record the session to OUT (.csv) (default: a new file in the session store's folder)")
    recording.add_argument("--no-record", action="store_true",
                           help="neither record the session nor store its analysis")
    _add_store_option(p)


def _add_view_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=("desk", "squat", "auto"), default="auto",
                   help="dashboard view: desk (posture first), squat (reps first) or auto (the squat view "
                        "while a set is under way; default)")


def _add_unit_options(p: argparse.ArgumentParser) -> None:
    """Units of a generic CSV's columns; unstated, SI is assumed and checked against the data."""
    p.add_argument("--time-unit", choices=("s", "ms", "us", "ns"), help="unit of the t column (default s)")
    p.add_argument("--acc-unit", choices=("m/s2", "g"), help="unit of ax, ay, az (default m/s2)")
    p.add_argument("--gyro-unit", choices=("rad/s", "deg/s"), help="unit of gx, gy, gz (default rad/s)")


def _add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="session store directory (default: $TILTWATCH_DATA_DIR, else the user data directory)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tiltwatch", description="Wearable pelvic-tilt monitor. Not a medical device.")
    parser.add_argument("--version", action="version", version=f"tiltwatch {_version()}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="count", default=0,
                          help="more on stderr (-v info, -vv debug); the log file always gets info")
    loudness.add_argument("-q", "--quiet", action="store_true", help="errors only on stderr (no warnings, no progress)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("demo", help="live dashboard on the built-in emulated sensor")
    p.add_argument("--sensor", choices=PROFILE_KEYS + ("sim",), default="wt901",
                   help="emulated sensor profile, over a virtual BLE link (default wt901); 'sim' feeds "
                        "the simulator straight in, without BLE")
    p.add_argument("--scenario", default="mixed", choices=SCENARIO_NAMES, metavar="NAME",
                   help=f"{SCENARIO_HELP} (default mixed)")
    p.add_argument("--rate", type=float, metavar="HZ", help="sample rate (default: the profile's default)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulated wearer")
    p.add_argument("--faults", metavar="SPEC", help="emulated faults, e.g. 'disconnect@30,loss=2%%'")
    _add_live_recording_options(p)
    add_cli_arguments(p)
    _add_view_option(p)

    p = sub.add_parser("live", help="live dashboard on a real (or --emulate'd) BLE sensor")
    _add_sensor_options(p, address=True)
    _add_live_recording_options(p)
    add_cli_arguments(p)
    _add_view_option(p)

    p = sub.add_parser("replay", help="replay a recording (or generic CSV) through the dashboard")
    p.add_argument("file", help="recording or CSV file")
    p.add_argument("--speed", type=_positive_float, default=1.0, metavar="X",
                   help="playback speed factor (default 1 = real time)")
    p.add_argument("--fast", action="store_true", help="as fast as possible")
    _add_unit_options(p)
    add_cli_arguments(p)
    _add_view_option(p)

    p = sub.add_parser("record", help="record a session headless, from any source")
    p.add_argument("out", help="file to write (.csv); an existing file is never overwritten")
    _add_sensor_options(p, address=True)
    p.add_argument("--simulate", action="store_true",
                   help="record the motion simulator directly (no BLE), as fast as possible")
    p.add_argument("--input", metavar="FILE", help="re-record an existing recording or generic CSV")
    p.add_argument("--seconds", type=_positive_float, metavar="N", help="stop after N seconds of samples")
    _add_unit_options(p)

    p = sub.add_parser("info", help="device, sample count, duration, rate and gaps of a recording")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_unit_options(p)

    p = sub.add_parser("analyze", help="activities, tilt episodes, squat reps and butt wink of a recording")
    p.add_argument("files", nargs="+", metavar="FILE", help="recording or generic CSV (one or more)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object, or an array of them for several files (see docs/analysis-json.md)")
    p.add_argument("--series", action="store_true", help="include the tilt series (10 Hz) in the JSON")
    p.add_argument("--no-store", action="store_true", help="do not save the analysis in the session store")
    _add_store_option(p)
    p.add_argument("--calibration", metavar="SPEC",
                   help="calibration windows in seconds from the start: stand=A:B[,sit=A:B][,hinge=A:B]")
    _add_unit_options(p)
    add_cli_arguments(p)

    p = sub.add_parser("sessions", help="list the stored sessions: date, kind, duration, headline figures")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_store_option(p)

    p = sub.add_parser("history", help="per day or week: sitting, neutral share, alerts, breaks, reps, butt wink")
    period = p.add_mutually_exclusive_group()
    period.add_argument("--days", type=_positive_int, metavar="N", help="the last N days (default 14)")
    period.add_argument("--weeks", type=_positive_int, metavar="N", help="the last N weeks, one row each")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_store_option(p)

    p = sub.add_parser("compare", help="two sessions side by side, with the differences that matter")
    p.add_argument("a", metavar="A", help="session id (see 'tiltwatch sessions') or recording file")
    p.add_argument("b", metavar="B", help="session id or recording file")
    p.add_argument("--no-store", action="store_true", help="do not save the analysis of a file not yet stored")
    _add_unit_options(p)
    _add_store_option(p)

    for name, help_text in (("report", "a self-contained HTML report (and/or a PNG summary) of a session"),
                            ("export", "a session's tilt series, episodes, alerts, reps and activities as CSV")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("source", metavar="SESSION|FILE",
                       help="session id (see 'tiltwatch sessions'), recording, generic CSV or phone export")
        if name == "report":
            p.add_argument("--html", metavar="OUT", help="write the report to OUT (.html)")
            p.add_argument("--png", metavar="OUT", help="write one summary figure to OUT (.png)")
        else:
            p.add_argument("--csv", metavar="DIR", required=True, help="folder to write the CSV files into")
        p.add_argument("--calibration", metavar="SPEC", help="calibration windows, as for analyze")
        p.add_argument("--no-store", action="store_true", help="do not save the analysis of a file in the store")
        _add_store_option(p)
        _add_unit_options(p)
        add_cli_arguments(p)

    p = sub.add_parser("completion", help="print a shell completion script (bash or zsh)")
    p.add_argument("shell", choices=("bash", "zsh"))

    p = sub.add_parser("scan", help="list nearby supported sensors, strongest first")
    p.add_argument("--seconds", type=_positive_float, default=5.0, metavar="N", help="scan time (default 5)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--emulate", choices=PROFILE_KEYS, nargs="*", metavar="PROFILE",
                   help="scan a virtual BLE link with these emulated sensors (all if none given)")
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def parse_calibration_spec(spec: str | None) -> dict[str, tuple[float, float]]:
    """``stand=0:5,sit=60:65`` -> {"stand": (0, 5), "sit": (60, 65)}; one-line errors otherwise."""
    if not spec:
        return {}
    windows: dict[str, tuple[float, float]] = {}
    for part in spec.split(","):
        kind, sep, span = part.strip().partition("=")
        start, colon, end = span.partition(":")
        if kind not in ("stand", "sit", "hinge") or not sep or not colon:
            raise UsageError(f"--calibration: cannot read {part!r}; expected KIND=START:END with KIND "
                             "stand, sit or hinge, e.g. stand=0:5,sit=60:65")
        try:
            a, b = float(start), float(end)
        except ValueError:
            raise UsageError(f"--calibration: {part!r} has a non-numeric time; expected seconds, "
                             "e.g. stand=0:5") from None
        if not 0 <= a < b:
            raise UsageError(f"--calibration: window {part!r} must satisfy 0 <= START < END")
        if kind in windows:
            raise UsageError(f"--calibration: {kind} given twice")
        windows[kind] = (a, b)
    if windows and "stand" not in windows:
        raise UsageError("--calibration: a stand=A:B window is required when calibration windows are given")
    return windows
