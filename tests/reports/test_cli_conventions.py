"""CLI conventions: python -m tiltwatch, shell completion, -q, the private log file, exit codes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tui.cli import main

ROOT = Path(__file__).parents[2]


def test_python_m_tiltwatch_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "tiltwatch", "--version"], capture_output=True, text=True,
                          cwd=ROOT, env=os.environ.copy())
    assert done.returncode == 0 and done.stdout.startswith("tiltwatch ")


def test_completion_scripts_name_every_command(capsys):
    for shell in ("bash", "zsh"):
        assert main(["completion", shell]) == 0
        script = capsys.readouterr().out
        assert "complete -o filenames -F _tiltwatch tiltwatch" in script
        for command in ("analyze", "sessions", "history", "compare", "record"):
            assert f"{command}) words=" in script
    assert "bashcompinit" in script
    done = subprocess.run(["bash", "-n"], input=script.split("\n", 2)[2], text=True, capture_output=True)
    assert done.returncode == 0, done.stderr


def test_exit_codes_and_the_private_log_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.csv")]) == 2  # a user error: one line, exit 2
    assert capsys.readouterr().err.count("\n") == 1
    log = Path(os.environ["TILTWATCH_LOG_DIR"]) / "tiltwatch.log"
    assert log.exists() and "info:" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert main([]) == 2


def test_quiet_drops_warnings(tmp_path, capsys):
    csv = tmp_path / "g.csv"
    rows = [f"{k * 0.01:.2f},0,0,9.81,0,0,0" for k in range(300)]
    rows[150] = "1.50,1e6,1e6,1e6,0,0,0"  # beyond any IMU's range: dropped, with a warning
    csv.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    main(["analyze", str(csv), "--no-store"])
    loud = capsys.readouterr().err
    main(["-q", "analyze", str(csv), "--no-store"])
    quiet = capsys.readouterr().err
    assert "warning" in loud and quiet == ""
