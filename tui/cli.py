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
    p.add_argument("--calibration", metavar="SPEC",
                   help="calibration windows in seconds from the start: stand=A:B[,sit=A:B][,hinge=A:B]")
    _add_unit_options(p)
    add_cli_arguments(p)

    for name, help_text in (("report", "a self-contained HTML report (and/or a PNG summary) of a session"),
                            ("export", "a session's tilt series, episodes, alerts, reps and activities as CSV")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("source", metavar="FILE", help="recording, generic CSV or phone export")
        if name == "report":
            p.add_argument("--html", metavar="OUT", help="write the report to OUT (.html)")
            p.add_argument("--png", metavar="OUT", help="write one summary figure to OUT (.png)")
        else:
            p.add_argument("--csv", metavar="DIR", required=True, help="folder to write the CSV files into")
        p.add_argument("--calibration", metavar="SPEC", help="calibration windows, as for analyze")
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
    if args.json:
        from tui.reports.json_report import analysis_json

        objects = [analysis_json(r, include_series=args.series) for r in results]
        print(json.dumps(objects[0] if len(objects) == 1 else objects, indent=None if args.series else 2))
    else:
        from tui.reports.text_report import format_summary

        print("\n\n".join(format_summary(r) for r in results))
    return 0


def _analyze_file(args: argparse.Namespace, path: str, settings, windows):
    """The analysis of one file, its warnings on stderr."""
    from firmware_interface.recording import read_recording
    from fusion.analysis import analyze_batch
    from fusion.session import SessionSource

    recording = read_recording(path, _units(args))
    _warn(args, recording.warnings)
    info = recording.info
    started = recording.metadata.get("started", [{}])[0].get("host_time_utc")
    source = SessionSource(info.device, info.profile, info.sample_rate_hz, str(recording.path),
                           started if isinstance(started, str) else None)
    progress = _progress_on_terminal(f"analyzing {Path(path).name}")
    try:
        result = analyze_batch(recording.batch, info, settings=settings, calibration_windows=windows,
                               progress=progress, source=source)
    finally:
        if progress is not None:
            progress.done()
    _warn(args, result.warnings)
    return result


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
    return command(args, lambda path: _analyze_file(args, path, settings, windows))


COMMANDS = {
    "info": _cmd_info,
    "report": _report_command,
    "export": _report_command,
    "analyze": _cmd_analyze,
    "record": _cmd_record,
    "scan": _cmd_scan,
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
