#!/usr/bin/env python3
"""The mqlab course's two commands.

    python3 course.py open    # set everything up, open the course in JupyterLab
    python3 course.py test    # set everything up, run every test

Both create a virtual environment in ``.venv`` beside this file on first use and
install what they need into it (nothing outside this folder is touched, except
that on a Debian or Ubuntu machine without Python's ``venv`` module, running as
root, ``python3-venv`` is installed with apt). Later runs reuse the environment
and only reinstall when ``pyproject.toml`` changes.

Extra arguments are passed on: ``python3 course.py open --no-browser`` or
``python3 course.py test -k rabbitmq``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
START_NOTEBOOK = "notebooks/00-start-here.ipynb"
MIN_PYTHON = (3, 10)


def say(message: str) -> None:
    print(f"[mqlab] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_python_version() -> None:
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"mqlab needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is {sys.version.split()[0]}. "
            f"Run this script with a newer python3."
        )


def create_venv() -> None:
    """Create .venv, installing Debian's venv package first if the module is missing."""
    if venv_python().exists():
        return
    say(f"creating a virtual environment in {VENV}")
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if result.returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    missing_venv = "ensurepip" in result.stderr or "venv" in result.stderr
    apt = shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if missing_venv and apt and is_root:
        package = f"python3.{sys.version_info.minor}-venv"
        say(f"Python's venv module is missing; installing {package} with apt-get")
        subprocess.run([apt, "update", "-qq"], check=True)
        install = subprocess.run([apt, "install", "-y", "-qq", package])
        if install.returncode != 0:
            subprocess.run([apt, "install", "-y", "-qq", "python3-venv"], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        return
    sys.exit(
        "could not create a virtual environment:\n"
        f"{result.stderr.strip()}\n"
        "On Debian or Ubuntu install Python's venv module first: sudo apt-get install python3-venv"
    )


def ensure_installed(extras: str) -> None:
    """Install mqlab (editable) with the given extras, unless the same install is already there."""
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    digest = hashlib.sha256(pyproject).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    python = str(venv_python())
    say(f"installing mqlab with its {extras} dependencies (a minute or two the first time)")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]"], check=True, cwd=ROOT)
    stamp.write_text(digest)


def run(arguments: list[str]) -> int:
    return subprocess.run(arguments, cwd=ROOT).returncode


def open_course(extra: list[str]) -> int:
    ensure_installed("course")
    say(f"opening {START_NOTEBOOK} in JupyterLab (stop it with Ctrl-C)")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        extra = [*extra, "--allow-root"]  # containers and CI machines often run as root
    return run([str(venv_python()), "-m", "jupyter", "lab", START_NOTEBOOK, *extra])


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser tests when it is missing and apt can (root); else they skip."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not (apt and is_root):
        say("Chromium not found: the browser tests will skip (install it with: sudo apt-get install -y chromium)")
        return
    say("installing Chromium with apt-get for the browser tests (about a minute)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
        try:
            if subprocess.run(command, env=env, timeout=600).returncode != 0:
                break
        except subprocess.TimeoutExpired:
            break
    if not CHROMIUM.exists():
        say("could not install Chromium: the browser tests will skip (try: sudo apt-get install -y chromium)")


def test_everything(extra: list[str]) -> int:
    """Lint, then every test: unit and property tests, notebook gates, notebooks under nbval."""
    ensure_installed("course,test,bench,real")
    ensure_chromium()
    python = str(venv_python())
    say("ruff: lint")
    if run([python, "-m", "ruff", "check", "."]) != 0:
        say("ruff found problems (see above); fix them or run: .venv/bin/ruff check --fix .")
        return 1
    say("pytest: unit, property and notebook tests")
    return run(
        [
            python,
            "-m",
            "pytest",
            "tests",
            "notebooks",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "notebooks/nbval_sanitize.cfg",
            "--nbval-cell-timeout=120",
            "--nbval-kernel-startup-timeout=60",
            *extra,
        ]
    )


COMMANDS = {"open": open_course, "test": test_everything}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    ensure_python_version()
    create_venv()
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
