"""The ``stylecam`` command: the window when run bare, subcommands otherwise.

Each subcommand lives in :mod:`stylecam.commands` as a module with ``add_parser(subparsers)``
and ``main(args) -> int``; running one imports only its module (``stylecam styles`` never loads
the snapshot command's PyTorch), ``stylecam --help`` imports them all. Errors a user can cause
(:class:`~stylecam.errors.StylecamError`) print one line and exit 1; bad arguments exit 2
(argparse); Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from stylecam import __version__
from stylecam.errors import StylecamError

COMMANDS = ("run", "styles", "bench", "train", "snapshot", "gui")


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The argument parser with the subcommands ``commands`` (each one's module is imported)."""
    parser = argparse.ArgumentParser(
        prog="stylecam",
        description="Turn a webcam into live art. Run bare to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"stylecam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        module = importlib.import_module(f"stylecam.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0].startswith("--") and args_list[0] not in ("--help", "--version"):
        args_list = ["gui", *args_list]  # `stylecam [--source X] [--style Y]` opens the window
    parser = build_parser([args_list[0]] if args_list[0] in COMMANDS else COMMANDS)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StylecamError as exc:
        print(f"stylecam: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stylecam: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
