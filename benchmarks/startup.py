"""Start-up time and peak memory (RSS) of the light commands: `stylecam styles` and a short `stylecam run`.

Each command runs ``--repeat`` times in a fresh process (``sys.executable -m stylecam``, the
stylecam found from the current directory first); the table gives the median wall and CPU
(user + system) times and the largest peak RSS. CPU time is steadier than wall time on a busy machine. Run it on a quiet machine (e.g. under ``/work/quiet``) when the numbers matter::

    python benchmarks/startup.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system), peak RSS in MiB) of one run of ``argv``; raises if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()[-300:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0  # Linux reports KiB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--style", default="udnie")
    ap.add_argument("--frames", type=int, default=30)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "startup.mp4"
        commands = {
            "stylecam styles": ["styles"],
            f"stylecam run --source demo --style {a.style} --max-frames {a.frames} --output x.mp4": [
                "run", "--source", "demo", "--style", a.style, "--max-frames", str(a.frames), "--output", str(out),
            ],
        }
        print(f"{'command':<80} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13}   (medians; RSS: largest)")
        for label, args in commands.items():
            runs = [measure([sys.executable, "-m", "stylecam", *args]) for _ in range(a.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            print(f"{label:<80} {wall:>7.2f} {cpu:>7.2f} {rss:>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
