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
from pathlib import Path
from typing import Sequence

from firmware_interface.errors import TiltwatchError, UsageError
from fusion.settings import settings_from_args
from tui.cli_parser import (EXIT_INTERRUPTED, EXIT_USER_ERROR, SCENARIO_NAMES, build_parser,
                            parse_calibration_spec)

__all__ = ["SCENARIO_NAMES", "build_parser", "main", "parse_calibration_spec", "source_description"]


def _units(args: argparse.Namespace):
    from firmware_interface.recording import Units

    return Units(time=args.time_unit, acc=args.acc_unit, gyro=args.gyro_unit)


def _warn(args: argparse.Namespace, warnings: Sequence[str]) -> None:
    if getattr(args, "quiet", False):
        return
    for warning in warnings:
        print(f"tiltwatch {args.command}: warning: {warning}", file=sys.stderr)


def _refuse_existing(path: str | Path) -> None:
    """Recordings are never overwritten, nor written through a link (even a dangling one)."""
    if Path(path).is_symlink():
        raise UsageError(f"{path} is a symbolic link; recordings are never written through links; "
                         "choose a new file name")
    if Path(path).exists():
        raise UsageError(f"{path} already exists; choose a new file name (recordings are never overwritten)")


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
    """The analysis of one file; its warnings on stderr."""
    from tui.analyze_file import analyze_file

    progress = None if args.quiet else _progress_on_terminal(f"analyzing {Path(path).name}")
    try:
        result = analyze_file(path, settings, windows, _units(args), progress, lambda w: _warn(args, w))
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
    from tui.dashboard import run_dashboard

    settings = settings_from_args(args)
    record_path = getattr(args, "record", None)
    if record_path:
        _refuse_existing(record_path)
    stored = args.command in ("demo", "live") and not args.no_record
    if stored and not record_path:
        from tui.store import new_recording_path

        record_path = str(new_recording_path(args.command, args.data_dir))
    from firmware_interface.source_spec import open_source

    description = source_description(args, headless=False)
    opener = lambda: open_source(description)  # noqa: E731
    if args.command == "replay":  # the dashboard's replay takes pause, speed and seek keys
        from firmware_interface.sources import opened
        from tui.replay_source import controlled_replay

        replay = controlled_replay(description.path, speed=description.speed, units=description.units)
        opener = lambda: opened(replay)  # noqa: E731
    code = run_dashboard(opener, mode=mode, record_path=record_path, settings=settings,
                         config_path=getattr(args, "config", None), data_dir=getattr(args, "data_dir", None),
                         view=args.mode)
    if stored:
        _store_live_session(Path(record_path), settings, args.data_dir)
    return code


def _store_live_session(path: Path, settings, data_dir: str | None) -> None:
    """Analyse the finished session's recording and store it (the dashboard is gone by now).
    Interrupting, or a store that cannot be written, loses nothing: the recording stays, and
    ``tiltwatch analyze`` stores it later."""
    from tui.store import save_recording

    if not path.exists() or path.stat().st_size == 0:
        return
    later = f"the recording is kept: 'tiltwatch analyze {path}' stores it later"
    print("tiltwatch: analysing the session for the store (Ctrl+C to skip) ...", file=sys.stderr)
    try:
        session_id = save_recording(path, settings, data_dir)
    except KeyboardInterrupt:
        print(f"tiltwatch: not stored; {later}", file=sys.stderr)
    except TiltwatchError as error:
        print(f"tiltwatch: not stored ({error}); {later}", file=sys.stderr)
    else:
        print(f"tiltwatch: session {session_id} stored (recording {path}); "
              f"'tiltwatch report {session_id} --html FILE' makes a report", file=sys.stderr)


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


def _store_commands():
    from tui.store import commands

    return commands


def _print_completion(shell: str) -> int:
    from tui.completion import print_completion

    return print_completion(shell, build_parser())


COMMANDS = {
    "info": _cmd_info,
    "report": _report_command,
    "export": _report_command,
    "analyze": _cmd_analyze,
    "record": _cmd_record,
    "scan": _cmd_scan,
    "sessions": lambda a: _store_commands().sessions(a),
    "history": lambda a: _store_commands().history(a),
    "compare": lambda a: _store_commands().compare(a, _analyze_file),
    "completion": lambda a: _print_completion(a.shell),
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
    from tui.logs import setup_logging

    setup_logging(-1 if args.quiet else args.verbose)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return COMMANDS[args.command](args)
    except TiltwatchError as error:
        logging.getLogger("tiltwatch").info("%s: %s", args.command, error)
        print(f"tiltwatch {args.command}: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"tiltwatch {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `tiltwatch analyze ... | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
