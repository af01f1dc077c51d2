"""``stylecam snapshot``: placeholder until implemented."""

from __future__ import annotations

import argparse

from stylecam.errors import StylecamError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("snapshot", help="(not implemented yet)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    raise StylecamError("'snapshot' is not implemented yet")
