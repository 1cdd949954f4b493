"""The ``report`` and ``export`` commands: one session written as HTML / PNG, or as CSV.

SESSION|FILE: a number that is not a file is a session id, read back from the store (no new
analysis); anything else is a file, analysed as ``tiltwatch analyze`` does (``analyze_file``,
passed in by the command line) and saved in the store unless ``--no-store``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from firmware_interface.errors import UsageError
from fusion.session import SessionAnalysis

AnalyzeFile = Callable[[str], SessionAnalysis]
Save = Callable[[SessionAnalysis], object]
SUFFIXES = {"html": (".html", ".htm"), "png": (".png",)}


def analysis_of(args: argparse.Namespace, analyze_file: AnalyzeFile, save: Save) -> SessionAnalysis:
    ref = args.source
    if ref.isdigit() and not Path(ref).exists():
        from tui.reports.json_load import analysis_from_json
        from tui.store import SessionStore

        with SessionStore(args.data_dir) as store:
            store.session(int(ref))  # one line if there is no such session
            return analysis_from_json(store.analysis(int(ref)), store.series(int(ref)))
    analysis = analyze_file(ref)
    if not args.no_store:
        save(analysis)
    return analysis


def cmd_report(args: argparse.Namespace, analyze_file: AnalyzeFile, save: Save) -> int:
    if not (args.html or args.png):
        raise UsageError("nothing to write: pass --html OUT and/or --png OUT")
    from tui.reports import figures

    figures.require_matplotlib()
    outputs = {kind: Path(path) for kind, path in (("html", args.html), ("png", args.png)) if path}
    for kind, path in outputs.items():
        _check_output(path, kind, args.source)
    analysis = analysis_of(args, analyze_file, save)
    if "html" in outputs:
        from tui.reports.html import render_html

        _write(outputs["html"], render_html(analysis).encode("utf-8"))
    if "png" in outputs:
        _write(outputs["png"], figures.png(figures.summary_figure(analysis)))
    for path in outputs.values():
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace, analyze_file: AnalyzeFile, save: Save) -> int:
    from tui.reports.csv_export import check_directory, export_csv

    directory = Path(args.csv)
    check_directory(directory)  # before the analysis, which may take a while
    for path in export_csv(analysis_of(args, analyze_file, save), directory):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _same_file(path: Path, source: str) -> bool:
    try:
        return path.exists() and Path(source).exists() and path.samefile(source)
    except OSError:
        return False


def _check_output(path: Path, kind: str, source: str) -> None:
    """A report never replaces the recording it reports on, nor a file of another kind."""
    if path.suffix.lower() not in SUFFIXES[kind]:
        raise UsageError(f"--{kind} {path}: expected a file name ending in {' or '.join(SUFFIXES[kind])}")
    if _same_file(path, source):
        raise UsageError(f"--{kind} {path} is the input itself; choose another file name")
    if path.is_dir():
        raise UsageError(f"--{kind} {path} is a folder; expected a file name")


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: written beside, then renamed over ``path``."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path} ({error.strerror or error})") from None
