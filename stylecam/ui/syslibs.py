"""Which system libraries a Qt platform plugin lacks, found before Qt tries (and aborts) to load it.

PySide6 bundles Qt but not the X11/xcb libraries its ``xcb`` platform plugin links against; a
machine without, say, ``libxcb-cursor0`` gets Qt's "Could not load the Qt platform plugin" and a
core dump. :func:`missing_libraries` reads the plugin's ELF ``DT_NEEDED`` entries (following the
libraries PySide6 ships itself, found through their ``RUNPATH``), tries to load each system
library with :mod:`ctypes`, and returns the ones that cannot be found. Pure Python: no ``ldd``,
no Qt import. Linux only (ELF); elsewhere Qt ships what it needs.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path

_DT_NEEDED, _DT_RPATH, _DT_RUNPATH = 1, 15, 29
_SHT_DYNAMIC = 6

_DEBIAN_PACKAGES = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libz.so.1": "zlib1g",
    "libgcc_s.so.1": "libgcc-s1",
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
}
"""Sonames whose Debian/Ubuntu package does not follow the usual naming (see :func:`debian_package`)."""

_NOT_FOUND = re.compile(r"^(?P<name>[^\s:/]+(?:\.so[.\d]*)): cannot open shared object file")


def needed_and_runpath(path: Path) -> tuple[list[str], list[str]]:
    """(DT_NEEDED sonames, RUNPATH/RPATH folders with ``$ORIGIN`` expanded) of the ELF file ``path``.

    Reads the section headers; a file that is not ELF, or has no dynamic section, gives ([], []).
    """
    data = path.read_bytes()
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return [], []
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        sh_fmt, dyn_fmt = end + "IIQQQQIIQQ", end + "qQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        sh_fmt, dyn_fmt = end + "IIIIIIIIII", end + "iI"
    sections = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize) for i in range(shnum) if shoff]
    needed: list[str] = []
    paths: list[str] = []
    for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if sh_type != _SHT_DYNAMIC or not entsize or link >= len(sections):
            continue
        strtab = sections[link][4]
        for pos in range(offset, offset + size, entsize):
            tag, value = struct.unpack_from(dyn_fmt, data, pos)
            if tag == 0:
                break
            if tag in (_DT_NEEDED, _DT_RPATH, _DT_RUNPATH):
                text = data[strtab + value : data.index(b"\0", strtab + value)].decode("utf-8", "replace")
                if tag == _DT_NEEDED:
                    needed.append(text)
                else:
                    origin = str(path.absolute().parent)
                    paths += [p.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for p in text.split(":") if p]
    return needed, paths


def can_load(soname: str) -> str | None:
    """None if the dynamic loader finds and loads ``soname``, else the soname that it could not find.

    That may be a dependency of ``soname`` rather than ``soname`` itself. Errors other than a
    missing file (a symbol version mismatch) are not reported here: Qt will say those itself.
    """
    try:
        ctypes.CDLL(soname)
    except OSError as exc:
        m = _NOT_FOUND.match(str(exc))
        return m.group("name") if m else None
    return None


def missing_libraries(plugin: Path, load: Callable[[str], str | None] = can_load) -> list[str]:
    """Sonames that ``plugin`` (directly, or through libraries bundled beside it) needs but the system lacks.

    Libraries found in a RUNPATH folder are bundled (PySide6's Qt) and searched in turn; every
    other one is handed to ``load`` (:func:`can_load`; tests pass a fake). Sorted, no duplicates.
    """
    missing: set[str] = set()
    seen: set[str] = set()
    todo = [plugin]
    while todo:
        needed, runpath = needed_and_runpath(todo.pop())
        for soname in needed:
            if soname in seen:
                continue
            seen.add(soname)
            bundled = next((Path(d) / soname for d in runpath if (Path(d) / soname).is_file()), None)
            if bundled is not None:
                todo.append(bundled)
                continue
            lacking = load(soname)
            if lacking is not None:
                missing.add(lacking)
    return sorted(missing)


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``: ``libxcb-cursor.so.0`` -> ``libxcb-cursor0``,
    ``libX11.so.6`` -> ``libx11-6``, ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``."""
    if soname in _DEBIAN_PACKAGES:
        return _DEBIAN_PACKAGES[soname]
    stem, _, version = soname.partition(".so")
    major = version.lstrip(".").split(".")[0]
    stem = stem.lower()
    return f"{stem}{'-' if stem[-1:].isdigit() else ''}{major}"


def platform_plugin(name: str) -> Path | None:
    """PySide6's Qt platform plugin ``name`` (``xcb``, ``wayland``), or None when it is not there.

    ``QT_QPA_PLATFORM_PLUGIN_PATH``, when set, is where Qt looks first, and so do we.
    """
    folders = [Path(p) for p in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) / "Qt" / "plugins" / "platforms" for p in spec.submodule_search_locations]
    for folder in folders:
        candidate = folder / f"libq{name}.so"
        if candidate.is_file():
            return candidate
    return None
