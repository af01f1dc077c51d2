"""Before the QApplication: the platform Qt will use, and the system libraries its plugin lacks, in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stylecam import cli
from stylecam.ui import startup, syslibs

REPO = Path(__file__).resolve().parent.parent
XCB = syslibs.platform_plugin("xcb")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or XCB is None, reason="PySide6's xcb plugin is Linux-only")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt picks its own platform elsewhere")
@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "xcb"),
        ({"DISPLAY": ":0"}, "xcb"),
        ({"QT_QPA_PLATFORM": "offscreen"}, None),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, "xcb"),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, None),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, "xcb"),
    ],
)
def test_platform_to_check(env: dict[str, str], expected: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert startup.qt_platform() == expected


@linux_only
def test_elf_needed_entries_of_the_xcb_plugin() -> None:
    assert XCB is not None
    needed, runpath = syslibs.needed_and_runpath(XCB)
    assert {"libQt6XcbQpa.so.6", "libxcb-cursor.so.0", "libxcb.so.1"} <= set(needed)
    assert any((Path(d) / "libQt6XcbQpa.so.6").is_file() for d in runpath)  # $ORIGIN expanded to PySide6's Qt/lib
    assert syslibs.needed_and_runpath(REPO / "README.md") == ([], [])  # not ELF


@linux_only
def test_missing_libraries_follow_bundled_qt_and_report_the_system_ones() -> None:
    assert XCB is not None
    asked: list[str] = []

    def fake_load(soname: str) -> str | None:
        asked.append(soname)
        if soname == "libxcb-cursor.so.0":
            return soname
        if soname == "libxcb-icccm.so.4":
            return "libxcb-util.so.1"  # present, but its own dependency is not
        return None

    assert syslibs.missing_libraries(XCB, load=fake_load) == ["libxcb-cursor.so.0", "libxcb-util.so.1"]
    assert "libQt6XcbQpa.so.6" not in asked and "libQt6Core.so.6" not in asked  # bundled: read, not loaded
    assert "libglib-2.0.so.0" in asked  # a need of bundled QtCore, found by following it
    assert len(asked) == len(set(asked))


def test_can_load_names_what_the_loader_cannot_find() -> None:
    assert syslibs.can_load("libc.so.6") is None
    assert syslibs.can_load("libstylecam-absent.so.3") == "libstylecam-absent.so.3"


@linux_only
@pytest.mark.skipif(shutil.which("ldd") is None, reason="ldd (glibc) is not installed")
def test_missing_libraries_agree_with_ldd() -> None:
    assert XCB is not None
    out = subprocess.run(["ldd", str(XCB)], capture_output=True, text=True, timeout=60).stdout
    ldd_missing = {line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line}
    ours = set(syslibs.missing_libraries(XCB))
    assert ours <= ldd_missing and bool(ours) == bool(ldd_missing), (ours, ldd_missing)


@pytest.mark.parametrize(
    "soname, package",
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libX11.so.6", "libx11-6"),
        ("libEGL.so.1", "libegl1"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libwayland-cursor.so.0", "libwayland-cursor0"),
    ],
)
def test_debian_package_names(soname: str, package: str) -> None:
    assert syslibs.debian_package(soname) == package


def _desktop_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")


@linux_only
def test_window_command_names_missing_libraries_and_packages(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _desktop_env(monkeypatch)
    monkeypatch.setattr(syslibs, "missing_libraries", lambda plugin, load=None: ["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    opened: list[object] = []
    monkeypatch.setattr("stylecam.ui.app.build_window", lambda **kw: opened.append(kw))

    def no_app() -> None:
        raise AssertionError("a QApplication was about to be created despite the missing libraries")

    monkeypatch.setattr(startup, "ensure_app", no_app)
    assert cli.main(["--source", "demo"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and not opened  # before any source or window
    assert "xcb" in err[0] and "libxcb-cursor.so.0, libxcb-icccm.so.4" in err[0]
    assert err[0].endswith("sudo apt install libxcb-cursor0 libxcb-icccm4")


@linux_only
def test_no_check_for_the_offscreen_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(syslibs, "missing_libraries", lambda plugin, load=None: ["libxcb-cursor.so.0"])
    startup.check_can_open_window()  # no error: offscreen needs none of them


@linux_only
def test_really_missing_libraries_on_this_machine_give_one_line(tmp_path: Path) -> None:
    assert XCB is not None
    missing = syslibs.missing_libraries(XCB)
    if not missing:
        pytest.skip("this machine has every library the xcb plugin needs")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env.update(DISPLAY=":99", PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-m", "stylecam", "--source", "demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert all(m in lines[0] for m in missing) and "sudo apt install" in lines[0]
