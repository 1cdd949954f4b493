"""Settings: defaults, TOML file, CLI overrides, one-line errors."""

from __future__ import annotations

import argparse

import pytest

from firmware_interface.errors import UsageError
from fusion.settings import Settings, add_cli_arguments, config_path, load_settings, settings_from_args


def test_defaults_match_the_recommended_table():
    s = Settings()
    st = s.sustained_tilt
    assert (st.standing_anterior_deg, st.standing_posterior_deg) == (10.0, -8.0)
    assert (st.sitting_anterior_vs_standing_deg, st.sitting_posterior_vs_standing_deg) == (5.0, -20.0)
    assert (st.hysteresis_deg, st.hold_sitting_s, st.hold_standing_s, st.fidget_tolerance_s, st.re_alert_s) == \
        (3.0, 60.0, 30.0, 5.0, 300.0)
    assert (s.squat.wink_mild_deg, s.squat.wink_flag_deg) == (5.0, 10.0)
    assert s.to_json()["sustained_tilt"]["hold_sitting_s"] == 60.0


def test_toml_file_and_overrides(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[sustained_tilt]\nhold_sitting_s = 90\n\n[squat]\nwink_flag_deg = 12\n"
                    "[activity.bouts]\njoin_rest_s = 2.0\n")
    s = load_settings(path, {"sustained_tilt.re_alert_s": "600"})
    assert s.sustained_tilt.hold_sitting_s == 90.0 and s.squat.wink_flag_deg == 12.0
    assert s.sustained_tilt.re_alert_s == 600.0 and s.activity.bouts.join_rest_s == 2.0


@pytest.mark.parametrize("text, match", [
    ("[sustained]\nhold_s = 1\n", "unknown section"),
    ("[sustained_tilt]\nhold_s = 1\n", "unknown key sustained_tilt.hold_s"),
    ("[sustained_tilt]\nhold_sitting_s = 'long'\n", "must be a number"),
    ("[sustained_tilt]\nhold_sitting_s = -5\n", "hold_sitting_s must be in"),
    ("[sustained_tilt\n", "not valid TOML"),
])
def test_bad_files_are_one_line_usage_errors(tmp_path, text, match):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=match) as info:
        load_settings(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_explicit_file_is_an_error_but_missing_default_is_not(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    monkeypatch.setattr("fusion.settings.config_dir", lambda: tmp_path / "cfg")
    assert load_settings() == Settings()
    assert config_path().name == "config.toml"


def test_cli_flags(tmp_path, monkeypatch):
    monkeypatch.setattr("fusion.settings.config_dir", lambda: tmp_path)
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(["--hold-sitting-s", "45", "--set", "squat.min_depth_m=0.15"])
    s = settings_from_args(args)
    assert s.sustained_tilt.hold_sitting_s == 45.0 and s.squat.min_depth_m == 0.15
    with pytest.raises(UsageError, match="SECTION.KEY=VALUE"):
        settings_from_args(parser.parse_args(["--set", "squat.min_depth_m"]))


def test_saved_settings_load_back_and_keep_the_users_comments(tmp_path):
    from fusion.settings import save_settings

    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text("# my desk settings\n[squat]\nwink_flag_deg = 12 # stricter\n"
                    "[sustained_tilt]\nre_alert_s = 300\n")
    settings = load_settings(path).with_overrides({
        "sustained_tilt.hold_sitting_s": 90, "sustained_tilt.standing_anterior_deg": 12.5,
        "alerts.bell": False, "alerts.snooze_s": 300, "activity.bouts": {"join_rest_s": 2.0}})
    assert save_settings(settings, path) == path
    assert load_settings(path) == settings
    text = path.read_text()
    assert "# my desk settings" in text and "# stricter" in text
    assert "hold_sitting_s = 90\n" in text and "re_alert_s = 300" in text, "whole numbers stay integers"
    assert "hold_standing_s" not in text, "defaults stay implicit"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"], "no temporary file left"


def test_save_creates_a_private_directory_at_the_default_path(tmp_path, monkeypatch):
    from fusion.settings import save_settings

    monkeypatch.setattr("fusion.settings.config_dir", lambda: tmp_path / "cfg")
    written = save_settings(Settings().with_overrides({"alerts.desktop_notification": False}))
    assert written == config_path() and written.parent.stat().st_mode & 0o777 == 0o700
    assert written.stat().st_mode & 0o777 == 0o600
    assert load_settings().alerts.desktop_notification is False


def test_save_refuses_to_overwrite_a_broken_file(tmp_path):
    from fusion.settings import save_settings

    path = tmp_path / "config.toml"
    path.write_text("[sustained_tilt\n")
    with pytest.raises(UsageError, match="not valid TOML") as info:
        save_settings(Settings(), path)
    assert "\n" not in str(info.value) and path.read_text() == "[sustained_tilt\n"


def test_alert_settings_are_validated_with_units(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[alerts]\nsnooze_s = 5\n")
    with pytest.raises(UsageError, match=r"snooze_s must be in \[60, 14400\] seconds"):
        load_settings(path)
