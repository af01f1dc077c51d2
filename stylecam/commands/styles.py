"""``stylecam styles``: list installed styles, the files that were skipped (with why), and the
per-user styles folder that new styles go to."""

from __future__ import annotations

import argparse

from stylecam.paths import user_styles_dir
from stylecam.styles import StyleLibrary


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("styles", help="list the installed styles and print your styles folder")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    lib = StyleLibrary()
    rows = [("NAME", "TITLE", "ARCH", "FP16", "WHERE", "FILE")]
    for s in lib.styles:
        where = s.path_for(prefer_fp16=False)
        rows.append((s.name, s.info.title, s.info.arch, "yes" if s.fp16_path else "no", s.location, str(where)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    if not lib.styles:
        print("(no styles installed; train one with `stylecam train`)")
    for path, why in lib.problems.items():
        print(f"skipped {path}: {why}")
    folder = user_styles_dir()
    note = "" if folder.is_dir() else " (not created yet)"
    print(f"your styles folder: {folder}{note}")
    return 0
