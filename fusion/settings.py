"""All tunable parameters in one frozen object, loadable from a TOML file and CLI overrides.

The file lives in the user's config directory (``platformdirs``, already installed with
textual): ``~/.config/tiltwatch/config.toml`` on Linux, ``~/Library/Application Support/
tiltwatch/config.toml`` on macOS, ``%APPDATA%\\tiltwatch\\config.toml`` on Windows. Sections
are the stage names, keys the parameter names, values in the units their names carry::

    [sustained_tilt]
    hold_sitting_s = 90
    sitting_posterior_vs_standing_deg = -22

    [squat]
    wink_flag_deg = 12

Unknown sections or keys, wrong types and out-of-range values are a ``UsageError`` naming the
file, the key and what was expected. ``save_settings`` writes the file back (the settings screen
uses it): only what differs from the defaults or was already set, keeping the user's comments and
any other keys as they were.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from firmware_interface.errors import UsageError
from fusion.activity import ActivityParams
from fusion.calibration import CalibrationParams
from fusion.detection.squat import SquatParams
from fusion.detection.sustained_tilt import SustainedTiltParams
from fusion.orientation import OrientationParams
from fusion.tilt import TiltParams

CONFIG_FILENAME = "config.toml"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class AlertParams:
    """How the dashboard delivers a sustained-tilt alert (the detection itself is ``sustained_tilt``)."""

    snooze_s: float = 300.0
    """What the snooze key first hides alerts for; pressing it again lengthens the snooze to 15,
    then 60 minutes (the steps longer than this)."""
    bell: bool = False
    """Ring the terminal bell with each alert (off by default: a bell in an open-plan office
    shames more than it helps)."""
    desktop_notification: bool = True
    """Also post a desktop notification, where the desktop offers them."""

    def __post_init__(self) -> None:
        if not 60.0 <= self.snooze_s <= 14400.0:
            raise UsageError(f"snooze_s must be in [60, 14400] seconds (1 min to 4 h), got {self.snooze_s}")


@dataclass(frozen=True)
class Settings:
    orientation: OrientationParams = field(default_factory=OrientationParams)
    calibration: CalibrationParams = field(default_factory=CalibrationParams)
    tilt: TiltParams = field(default_factory=TiltParams)
    activity: ActivityParams = field(default_factory=ActivityParams)
    sustained_tilt: SustainedTiltParams = field(default_factory=SustainedTiltParams)
    squat: SquatParams = field(default_factory=SquatParams)
    alerts: AlertParams = field(default_factory=AlertParams)

    def to_json(self) -> dict[str, dict[str, Any]]:
        """Every parameter, by section (kept with analyses and recordings)."""
        return {f.name: _plain(dataclasses.asdict(getattr(self, f.name))) for f in dataclasses.fields(self)}

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "command line") -> Settings:
        """Overrides keyed ``"section.key"`` (e.g. ``"sustained_tilt.hold_sitting_s"``)."""
        nested: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            section, _, key = dotted.partition(".")
            if not key:
                raise UsageError(f"{source}: setting {dotted!r} must be written section.key")
            nested.setdefault(section, {})[key] = value
        return _apply(self, nested, source)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}


def _apply(settings: Settings, data: Mapping[str, Any], source: str) -> Settings:
    sections = {f.name for f in dataclasses.fields(Settings)}
    changes: dict[str, Any] = {}
    for section, values in data.items():
        if section not in sections:
            raise UsageError(f"{source}: unknown section [{section}]; expected one of {', '.join(sorted(sections))}")
        if not isinstance(values, Mapping):
            raise UsageError(f"{source}: [{section}] must be a table of key = value")
        current = getattr(settings, section)
        fields = {f.name: f for f in dataclasses.fields(current)}
        updates = {}
        for key, value in values.items():
            if key not in fields:
                raise UsageError(f"{source}: unknown key {section}.{key}; expected one of "
                                 f"{', '.join(sorted(fields))}")
            updates[key] = _coerce(value, getattr(current, key), f"{source}: {section}.{key}")
        try:
            changes[section] = dataclasses.replace(current, **updates)
        except UsageError as exc:
            raise UsageError(f"{source}: {exc}") from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise UsageError(f"{source}: [{section}] {exc}") from None
    return dataclasses.replace(settings, **changes)


def _coerce(value: Any, default: Any, where: str) -> Any:
    """The value in the type of the default: numbers as float where the default is one."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise UsageError(f"{where} must be true or false, got {value!r}")
    if isinstance(default, (int, float)):
        if isinstance(value, bool):
            raise UsageError(f"{where} must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise UsageError(f"{where} must be a number, got {value!r}") from None
        if not math.isfinite(number):  # the analysis JSON must stay JSON (no Infinity/NaN)
            raise UsageError(f"{where} must be a finite number, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool):
            if number != int(number):
                raise UsageError(f"{where} must be a whole number, got {value!r}")
            return int(number)
        return number
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(default):
            raise UsageError(f"{where} must be a list of {len(default)} values like {list(default)}, "
                             f"got {value!r}")
        return tuple(_coerce(v, d, f"{where}[{i}]") for i, (v, d) in enumerate(zip(value, default)))
    if isinstance(default, str):
        if not isinstance(value, str):
            raise UsageError(f"{where} must be a string, got {value!r}")
        return value
    if default is None:
        return value
    if dataclasses.is_dataclass(default) and isinstance(value, Mapping):
        fields = {f.name for f in dataclasses.fields(default)}
        unknown = sorted(set(value) - fields)
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]}; expected one of {', '.join(sorted(fields))}")
        return dataclasses.replace(default, **{k: _coerce(v, getattr(default, k), f"{where}.{k}")
                                               for k, v in value.items()})
    raise UsageError(f"{where} cannot be set from a config file")


def config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("tiltwatch", appauthor=False))


def config_path() -> Path:
    """Where the settings file is looked for by default."""
    return config_dir() / CONFIG_FILENAME


def _read_config_text(file: Path) -> str:
    if not file.is_file():  # a FIFO would block the read forever
        raise UsageError(f"{file}: not a regular file; expected a TOML settings file")
    if file.stat().st_size > MAX_CONFIG_BYTES:
        raise UsageError(f"{file}: larger than {MAX_CONFIG_BYTES >> 10} KiB; expected a short TOML "
                         "settings file")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{file}: not UTF-8 text (byte {exc.start}); expected a TOML settings "
                         "file") from None
    except OSError as exc:
        raise UsageError(f"{file}: cannot be read ({exc.strerror})") from None


def load_settings(path: Path | str | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Defaults, then the TOML file (the default one only if it exists; an explicit ``path``
    must exist), then the overrides (``"section.key": value``)."""
    settings = Settings()
    explicit = path is not None
    file = Path(path) if explicit else config_path()
    if file.exists():
        try:
            data = tomllib.loads(_read_config_text(file))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{file}: not valid TOML ({exc})") from None
        settings = _apply(settings, data, str(file))
    elif explicit:
        raise UsageError(f"{file}: settings file not found")
    if overrides:
        settings = settings.with_overrides(overrides)
    return settings


def save_settings(settings: Settings, path: Path | str | None = None) -> Path:
    """Write ``settings`` to the TOML file ``load_settings`` reads (default: ``config_path()``).

    A value is written when it differs from the default or the file already sets it; everything
    else in the file (comments, other keys) stays as it was, so ``load_settings`` gives back
    ``settings``. The file is replaced atomically and is private (0600); a directory created for
    it is 0700. A file that is not valid TOML is left alone: a ``UsageError`` says so.
    Returns the path written.
    """
    import tomlkit  # style-preserving TOML: a hand-edited file keeps its comments and layout

    file = Path(path) if path is not None else config_path()
    document = tomlkit.document()
    if file.exists():
        try:
            document = tomlkit.parse(_read_config_text(file))
        except tomlkit.exceptions.TOMLKitError as exc:
            raise UsageError(f"{file}: not valid TOML ({exc}); fix or remove it before saving") from None
    defaults = Settings()
    for section in dataclasses.fields(Settings):
        _merge_table(document, section.name, getattr(settings, section.name), getattr(defaults, section.name))
    _write_private(file, tomlkit.dumps(document))
    return file


def _merge_table(container: Any, name: str, values: Any, defaults: Any) -> None:
    """Set in ``container[name]`` each field of ``values`` that differs from ``defaults`` or is
    already there; a new table is added only when something goes in it."""
    import tomlkit

    table = container.get(name)
    fresh = table is None
    if fresh:
        table = tomlkit.table()
    for f in dataclasses.fields(values):
        value, default = getattr(values, f.name), getattr(defaults, f.name)
        if dataclasses.is_dataclass(value):
            _merge_table(table, f.name, value, default)
        elif value is not None and (value != default or f.name in table):
            # TOML has no null; defaults stay implicit unless the user wrote them.
            table[f.name] = _toml_value(value)
    if fresh and table:
        container[name] = table


def _toml_value(value: Any) -> Any:
    """Whole-number floats as integers (``hold_sitting_s = 90``); the reader turns them back."""
    if isinstance(value, tuple):
        return [_toml_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _write_private(file: Path, text: str) -> None:
    if not file.parent.exists():
        file.parent.mkdir(mode=0o700, parents=True)
    try:
        # mkstemp creates the file 0600 in the same directory, so the rename is atomic.
        descriptor, temporary = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    except OSError as exc:
        raise UsageError(f"{file.parent}: cannot write the settings there ({exc.strerror})") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, file)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"{file}: cannot be written ({exc.strerror})") from None


# The options worth a command-line flag; everything else is reachable with --set section.key=value.
CLI_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--hold-sitting-s", "sustained_tilt.hold_sitting_s", "seconds of sustained sitting tilt before an alert"),
    ("--hold-standing-s", "sustained_tilt.hold_standing_s", "seconds of sustained standing tilt before an alert"),
    ("--re-alert-s", "sustained_tilt.re_alert_s", "seconds before the same alert repeats"),
    ("--fidget-s", "sustained_tilt.fidget_tolerance_s", "returns to neutral shorter than this are ignored"),
    ("--hysteresis-deg", "sustained_tilt.hysteresis_deg", "degrees back inside the band that end an episode"),
    ("--wink-flag-deg", "squat.wink_flag_deg", "butt-wink reversal that is flagged"),
)


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config PATH``, the flags in ``CLI_FLAGS`` and ``--set section.key=value`` (repeatable)."""
    parser.add_argument("--config", metavar="PATH", help=f"settings file (default: {config_path()})")
    for flag, _, help_text in CLI_FLAGS:
        parser.add_argument(flag, type=float, default=None, help=help_text)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override any setting, e.g. --set squat.min_depth_m=0.15")


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for flag, dotted, _ in CLI_FLAGS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if value is not None:
            overrides[dotted] = value
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        overrides[key.strip()] = value.strip()
    return load_settings(getattr(args, "config", None), overrides)
