"""Re-take the window screenshots in docs/ reproducibly.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py \
        --vgg ../shared/models/vgg16-imagenet-caffe.safetensors

Opens the real window on the demo clip with the installed styles (bundled + user); when none are
installed it exports random-weight styles (thumbnails from ../shared/images/style) into a
temporary styles folder (untrained networks give near-black frames, so strength is then set to
50 %: re-run once real styles are installed). It selects style 1 (``--style-number``), grabs ``docs/screenshot_live.png``, then (unless ``--live-only``) freezes a
frame, runs DeepDream with the real VGG16 and grabs ``docs/screenshot_dream.png``. Settings,
pictures and cache go to a temporary folder: your own are not touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STYLE_IMAGES = REPO.parent / "shared" / "images" / "style"


def export_random_styles(folder: Path, count: int = 6) -> None:
    """Untrained lite networks as style files, titled and thumbnailed after real paintings."""
    import torch

    from stylecam.imageio import read_image
    from stylecam.nets import build_net
    from stylecam.styles import StyleInfo, export_style

    images = sorted(STYLE_IMAGES.glob("*.jpg"))[:count]
    if not images:
        raise SystemExit(f"no style images in {STYLE_IMAGES}")
    for i, path in enumerate(images):
        torch.manual_seed(i)
        name = path.stem.lower()
        info = StyleInfo.from_style_image(
            name=name, style_image_bgr=read_image(path), arch="lite", title=path.stem.replace("_", " ").title()
        )
        export_style(build_net("lite"), folder, info, fp16=False)


def pump(app, seconds: float) -> None:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vgg", help="VGG16 weights (default: $STYLECAM_VGG_WEIGHTS)")
    ap.add_argument("--out", default=str(REPO / "docs"), help="folder for the PNGs (default: docs/)")
    ap.add_argument("--size", default="1400x860", help="window size WxH")
    ap.add_argument("--dream-size", type=int, default=512, help="DeepDream long side in px")
    ap.add_argument("--random-styles", action="store_true", help="use random-weight styles even if styles are installed")
    ap.add_argument("--style-number", type=int, default=1, help="the style key to press for the live shot (default 1)")
    ap.add_argument("--live-only", action="store_true", help="take the live shot only, not the DeepDream one")
    args = ap.parse_args()
    if args.vgg:
        os.environ["STYLECAM_VGG_WEIGHTS"] = str(Path(args.vgg).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="stylecam-shots-"))
    for var in ("CONFIG", "PICTURES", "CACHE"):
        os.environ[f"STYLECAM_{var}_DIR"] = str(tmp / var.lower())

    from stylecam.styles import StyleLibrary

    random_styles = args.random_styles or not StyleLibrary().styles
    if random_styles:
        os.environ["STYLECAM_STYLES_DIR"] = str(tmp / "styles")
        export_random_styles(tmp / "styles")
        if args.random_styles:
            import stylecam.paths as paths

            paths.bundled_styles_dir = lambda: tmp / "none"  # only the random ones

    from stylecam.ui.startup import ensure_app

    app = ensure_app()
    from stylecam.ui.app import build_window

    window = build_window(source="demo", cameras=[], provider="auto")
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        pump(app, 1.0)
        window.pick_style_number(args.style_number)
        if random_styles:  # an untrained network outputs near-black: blend so the frame stays visible
            window.apply_settings(window.settings.with_strength_step(-5))
        t0 = time.monotonic()  # wait until the style is loaded and running (slow on a busy CPU)
        while window.pipeline.stats().style != window.settings.style and time.monotonic() - t0 < 120:
            pump(app, 0.2)
        pump(app, 3.0)
        window.grab().save(str(out / "screenshot_live.png"))
        print(f"wrote {out / 'screenshot_live.png'}")
        if args.live_only:
            return 0

        window.take_snapshot()
        panel = window.snapshot
        panel.mode.setCurrentIndex(panel.mode.findData("dream"))
        panel.dream_size.setValue(args.dream_size)
        panel.run()
        t0 = time.monotonic()
        while panel.running:
            pump(app, 0.1)
            if time.monotonic() - t0 > 900:
                panel.cancel()
        pump(app, 0.5)
        if panel.state != "done":
            print(f"dream ended as {panel.state}: {panel.status.text()}", file=sys.stderr)
            return 1
        panel.compare.setValue(60)  # show the before/after split
        pump(app, 0.5)
        window.grab().save(str(out / "screenshot_dream.png"))
        print(f"wrote {out / 'screenshot_dream.png'} (dream took {time.monotonic() - t0:.0f} s)")
    finally:
        window.shutdown()
        window.deleteLater()
    return 0


if __name__ == "__main__":
    sys.exit(main())
