"""The ``tiltwatch`` command line.

Headless commands (record, info, analyze, scan) never import Textual. Every user error ends in
one line on stderr and a non-zero exit; nothing already recorded is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import json
import logging
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn, Sequence

from firmware_interface.errors import TiltwatchError, UsageError
from fusion.settings import add_cli_arguments, settings_from_args

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


def _units(args: argparse.Namespace):
    from firmware_interface.recording import Units

    return Units(time=args.time_unit, acc=args.acc_unit, gyro=args.gyro_unit)


def _warn(args: argparse.Namespace, warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"tiltwatch {args.command}: warning: {warning}", file=sys.stderr)


def _refuse_existing(path: str | Path) -> None:
    """Recordings are never overwritten, nor written through a link (even a dangling one)."""
    if Path(path).is_symlink():
        raise UsageError(f"{path} is a symbolic link; recordings are never written through links; "
                         "choose a new file name")
    if Path(path).exists():
        raise UsageError(f"{path} already exists; choose a new file name (recordings are never overwritten)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tiltwatch", description="Wearable pelvic-tilt monitor. Not a medical device.")
    parser.add_argument("--version", action="version", version=f"tiltwatch {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("demo", help="live dashboard on the built-in emulated sensor")
    p.add_argument("--sensor", choices=PROFILE_KEYS + ("sim",), default="wt901",
                   help="emulated sensor profile, over a virtual BLE link (default wt901); 'sim' feeds "
                        "the simulator straight in, without BLE")
    p.add_argument("--scenario", default="mixed", help=f"{SCENARIO_HELP} (default mixed)")
    p.add_argument("--rate", type=float, metavar="HZ", help="sample rate (default: the profile's default)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulated wearer")
    p.add_argument("--faults", metavar="SPEC", help="emulated faults, e.g. 'disconnect@30,loss=2%%'")
    p.add_argument("--record", metavar="OUT", help="also record the session to OUT (.csv)")
    add_cli_arguments(p)

    p = sub.add_parser("live", help="live dashboard on a real (or --emulate'd) BLE sensor")
    _add_sensor_options(p, address=True)
    p.add_argument("--record", metavar="OUT", help="also record the session to OUT (.csv)")
    add_cli_arguments(p)

    p = sub.add_parser("replay", help="replay a recording (or generic CSV) through the dashboard")
    p.add_argument("file", help="recording or CSV file")
    p.add_argument("--speed", type=_positive_float, default=1.0, metavar="X",
                   help="playback speed factor (default 1 = real time)")
    p.add_argument("--fast", action="store_true", help="as fast as possible")
    _add_unit_options(p)
    add_cli_arguments(p)

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


# --- commands -------------------------------------------------------------------------------


def _cmd_info(args: argparse.Namespace) -> int:
    from firmware_interface.recording import open_recording_stream, summarize

    stream = open_recording_stream(args.file, units=_units(args))
    _warn(args, stream.warnings)
    summary = summarize(stream)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(summary.to_text())
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    windows = parse_calibration_spec(args.calibration)
    settings = settings_from_args(args)
    results = [_analyze_file(args, path, settings, windows) for path in args.files]
    if not args.no_store:
        _store_quietly(args, results)
    if args.json:
        from tui.reports.json_report import analysis_json

        objects = [analysis_json(r, include_series=args.series) for r in results]
        print(json.dumps(objects[0] if len(objects) == 1 else objects, indent=None if args.series else 2))
    else:
        from tui.reports.text_report import format_summary

        print("\n\n".join(format_summary(r) for r in results))
    return 0


def _analyze_file(args: argparse.Namespace, path: str, settings, windows):
    """The analysis of one file, read in passes (memory does not grow with its length); its
    warnings on stderr."""
    from firmware_interface.recording import open_recording_stream
    from fusion.analysis import analyze_passes
    from fusion.neutral_search import CHUNK_S
    from fusion.session import SessionSource

    stream = open_recording_stream(path, units=_units(args), chunk_s=CHUNK_S)
    _warn(args, stream.warnings)
    info = stream.info
    started = (stream.metadata.get("started") or [{}])[0].get("host_time_utc")
    source = SessionSource(info.device, info.profile, info.sample_rate_hz, str(stream.path),
                           started if isinstance(started, str) else None)
    progress = _progress_on_terminal(f"analyzing {Path(path).name}")
    try:
        result = analyze_passes(stream.batches, info, settings=settings, calibration_windows=windows,
                                progress=progress, source=source, expected_samples=stream.stats.samples)
    finally:
        if progress is not None:
            progress.done()
    _warn(args, result.warnings)
    return result


def _store_quietly(args: argparse.Namespace, results) -> list[int]:
    """Save analyses in the store; a store that cannot be written costs a warning, not the analysis."""
    from tui.store import SessionStore, StoreError

    try:
        with SessionStore(args.data_dir) as store:
            return [store.save(r) for r in results]
    except StoreError as error:
        _warn(args, [f"not saved in the session store: {error}"])
        return []


def _cmd_sessions(args: argparse.Namespace) -> int:
    from tui.store import SessionStore
    from tui.store.views import format_sessions, sessions_json

    with SessionStore(args.data_dir) as store:
        sessions = store.sessions()
    print(json.dumps(sessions_json(sessions), indent=2) if args.json else format_sessions(sessions))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from datetime import date, datetime, timedelta, timezone

    from tui.store import SessionStore
    from tui.store.views import format_history, history, history_json

    weekly = args.weeks is not None
    today = date.today()
    first = today - timedelta(days=7 * args.weeks - 1 if weekly else (args.days or 14) - 1)
    if weekly:
        first -= timedelta(days=first.weekday())
    since = datetime.combine(first, datetime.min.time()).astimezone().astimezone(timezone.utc)
    with SessionStore(args.data_dir) as store:
        # A day's start in UTC may be the previous UTC day: read from a day earlier, group locally.
        sessions = [s for s in store.sessions((since - timedelta(days=1)).isoformat()) if s.started.date() >= first]
    rows = history(sessions, first, today, weekly)
    print(json.dumps(history_json(rows), indent=2) if args.json else format_history(rows, weekly))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from tui.store import SessionStore
    from tui.store.headline import headline
    from tui.store.views import compare_figures, format_compare

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
            from tui.reports.json_report import analysis_json

            result = _analyze_file(args, ref, settings_from_args(args), {})
            if not args.no_store:
                store.save(result)
            sides.append((Path(ref).name[:14], analysis_json(result)))
    (name_a, a), (name_b, b) = sides
    print(format_compare(name_a, name_b, compare_figures(a, b, headline(a), headline(b))))
    return 0


class _TerminalProgress:
    """``label 42%`` redrawn in place on stderr; called with the fraction done (0..1)."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._shown = -1

    def __call__(self, fraction: float) -> None:
        percent = int(max(0.0, min(1.0, fraction)) * 100)
        if percent != self._shown:
            self._shown = percent
            sys.stderr.write(f"\r{self._label} {percent:3d}%")
            sys.stderr.flush()

    def done(self) -> None:
        if self._shown >= 0:
            sys.stderr.write("\r\x1b[K")  # leave the line clean for what follows
            sys.stderr.flush()


def _progress_on_terminal(label: str) -> _TerminalProgress | None:
    """A progress display when stderr is a terminal; None when piped (nothing on stderr)."""
    return _TerminalProgress(label) if sys.stderr.isatty() else None


def _cmd_record(args: argparse.Namespace) -> int:
    from firmware_interface.recording import RecordingWriter
    from firmware_interface.source_spec import open_source
    from firmware_interface.sources import record_stream

    out = Path(args.out)
    _refuse_existing(out)

    async def run() -> int:
        # SIGTERM stops the recording like Ctrl+C: what arrived is written, with the health line.
        task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        async with open_source(source_description(args, headless=True)) as source:
            _warn(args, getattr(source, "warnings", ()))
            writer = RecordingWriter(out, source.info)
            try:
                n = await record_stream(source, writer, args.seconds)
            except asyncio.CancelledError:
                n = writer.samples_written
            except OSError as error:
                with contextlib.suppress(OSError):
                    writer.close()
                raise TiltwatchError(f"cannot write {out} ({error.strerror or error}); the recording "
                                     f"stopped there and keeps its {writer.samples_written} samples") from None
            writer.close()
            return n

    try:
        n = asyncio.run(run())
    except asyncio.CancelledError:  # SIGTERM before the sensor was streaming: nothing to keep
        print("tiltwatch record: stopped before the recording began", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"recorded {n} samples to {out}", file=sys.stderr)
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from firmware_interface.source_spec import scan_sensors

    found = asyncio.run(scan_sensors(args.seconds, emulate=args.emulate))
    if args.json:
        print(json.dumps([f.to_json() for f in found], indent=2))
    elif not found:
        print(f"no supported sensors found in {args.seconds:g} s")
    else:
        for f in found:
            print(f.to_text())
    return 0


def _run_dashboard(args: argparse.Namespace, *, mode: str) -> int:
    from tui.app import run_dashboard

    settings = settings_from_args(args)
    record_path = getattr(args, "record", None)
    if record_path:
        _refuse_existing(record_path)
    from firmware_interface.source_spec import open_source

    description = source_description(args, headless=False)
    return run_dashboard(lambda: open_source(description), mode=mode, record_path=record_path,
                         settings=settings)


def source_description(args: argparse.Namespace, *, headless: bool):
    """The source the arguments ask for (``firmware_interface.source_spec``)."""
    from firmware_interface import source_spec as spec

    command = args.command
    if command == "replay":
        return spec.Replay(args.file, speed=None if args.fast else args.speed, units=_units(args))
    if command == "record" and args.input:
        return spec.Replay(args.input, speed=None, units=_units(args))
    if (command == "demo" and args.sensor == "sim") or (command == "record" and args.simulate):
        return spec.Simulation(args.scenario, rate_hz=args.rate or 100.0, seed=args.seed,
                               speed=None if headless else 1.0, loop=not headless)
    if command == "demo":
        return spec.EmulatedSensor(args.sensor, rate_hz=args.rate, scenario=args.scenario, seed=args.seed,
                                   faults=args.faults or "")
    if not (args.emulate or args.address or args.name):
        raise UsageError("no sensor given: pass an ADDRESS, --name PATTERN, --emulate PROFILE"
                         + (", --simulate or --input FILE" if command == "record" else ""))
    if args.faults and not args.emulate:
        raise UsageError("--faults only applies to emulated sensors (--emulate PROFILE)")
    if args.emulate:
        if args.profile is not None and args.profile != args.emulate:
            raise UsageError(f"--profile {args.profile} contradicts --emulate {args.emulate}")
        return spec.EmulatedSensor(args.emulate, rate_hz=args.rate, scenario=args.scenario, seed=args.seed,
                                   faults=args.faults or "")
    return spec.BleSensor(args.address, args.name, args.profile, args.rate)


def _report_command(args: argparse.Namespace) -> int:
    from tui.reports.commands import cmd_export, cmd_report

    settings, windows = settings_from_args(args), parse_calibration_spec(args.calibration)
    command = cmd_report if args.command == "report" else cmd_export
    return command(args, lambda path: _analyze_file(args, path, settings, windows),
                   lambda analysis: _store_quietly(args, [analysis]))


COMMANDS = {
    "info": _cmd_info,
    "report": _report_command,
    "export": _report_command,
    "analyze": _cmd_analyze,
    "record": _cmd_record,
    "scan": _cmd_scan,
    "sessions": _cmd_sessions,
    "history": _cmd_history,
    "compare": _cmd_compare,
    "demo": lambda a: _run_dashboard(a, mode="live"),
    "live": lambda a: _run_dashboard(a, mode="live"),
    "replay": lambda a: _run_dashboard(a, mode="replay"),
}


def main(argv: Sequence[str] | None = None) -> int:
    # The virtual radio's controller warns about packets still in flight when an emulated link is
    # torn down: harmless, and not the user's business.
    logging.getLogger("bumble.controller").setLevel(logging.ERROR)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return COMMANDS[args.command](args)
    except TiltwatchError as error:
        print(f"tiltwatch {args.command}: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"tiltwatch {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `tiltwatch analyze ... | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
