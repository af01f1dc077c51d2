"""Training configuration: one dataclass, the presets, JSON round-trip.

Presets (see docs/TRAINING.md for the measurements behind them). Loss weights are for VGG16 with
Caffe weights fed 0-255 inputs (the shared safetensors file); torchvision-normalised weights
produce features ~60x smaller, so the trainer rescales the weights when the loaded VGG uses that
convention (``training.train.build_perceptual``).

``quick`` -- a new live style on a laptop CPU in under 15 minutes: fine-tunes only the gamma/beta
of the bundled ``live`` base network (conditional instance norm; Dumoulin et al. 2017), whose
convolutions already know how to paint, on 192 px crops, batch 4, Adam lr 1e-2 (few, well
conditioned parameters), VGG16 up to relu3_3 (block 4 costs ~40 % of the trunk), content weight
5e-4 at relu3_3 and stability weight 5 (900 steps: 7.6 min on 2 Zen 4 cores, docs/TRAINING.md).

``cpu`` -- the higher-quality CPU recipe (well under an hour): the same start, every weight
trained, more steps.

``base`` -- the multi-style base network of the bundled styles (all six paintings at once, one
gamma/beta row each, shared convolutions), 192 px crops, batch 6 (one crop per style per step);
the bundled base was trained in stages warm-started from each other (docs/TRAINING.md).

``lite`` -- the former quick preset: a ``lite`` network from scratch (it learns a change to its
input), 600 steps of batch 2.

``full`` -- the GPU recipe: the reference ``full`` network, 256 px crops, batch 8, 4 000 steps
(32 000 images seen, in the range of Johnson et al.'s 40 000), Adam lr 1e-3, style layers relu1_2
... relu4_3, bf16/fp16 autocast, data loading in 4 workers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from stylecam.errors import StylecamError

ARCH_CHOICES = ("full", "lite", "live")
TUNE_CHOICES = ("all", "norms")
BF16_CHOICES = ("auto", "on", "off")
DEVICE_CHOICES = ("auto", "cuda", "cpu")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and so goes into the style file's metadata)."""

    style: str = ""
    dataset: str = ""
    name: str = ""
    arch: str = "lite"
    preset: str = "quick"
    size: int = 192
    iters: int = 600
    batch: int = 2
    lr: float = 1e-2
    lr_schedule: str = "cosine"
    content_weight: float = 5e-5
    style_weight: float = 1e-3
    tv_weight: float = 1e-2
    stability_weight: float = 0.3
    stability_shift: int = 4
    stability_noise: float = 2.0
    lattice_weight: float = 0.0
    """Weight of the lattice term (``stylecam.perceptual.losses.lattice_loss``, in levels): against a mesh fixed to the net's pixel grid."""
    style_size: int = 512
    style_detail: int = 1
    """Finest detail of the painting the style loss asks for, in pixels: 1 = all of it; 2 = what a network painting at half resolution (``live``) can give (``training.train.style_target_image``)."""
    style_scales: tuple[float, ...] = (1.0,)
    """Scales the style loss compares the picture and the painting at (multi-scale Gram): (1.0,) = as painted;
    (1.0, 0.5) also compares the picture reduced 2x (area) with the painting reduced 2x, so only
    strokes that survive a reduction pay off there (a view at a smaller size, as the live view's
    measure and a user at a glance see it) rather than texture down to single pixels."""
    content_layer: str = "relu2_2"
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3")
    styles: tuple[str, ...] = ()
    """More style images trained jointly with ``style`` (arch ``live``: one network, one gamma/beta row each)."""
    base: str = ""
    """A ``live`` base network (.safetensors) to start from, or ``bundled`` for the one shipped with stylecam."""
    tune: str = "all"
    """``all`` trains every weight; ``norms`` only the style's gamma/beta (a fine-tune of ``base``)."""
    layout: int = 0
    """``live`` network layout (stylecam/nets/live.py): 0 = the base's (layout 1 becomes 2), or 2 from scratch; 1-5 explicitly (a base is upgraded, never downgraded)."""
    edge_width: int = 0
    """``live`` network: channels of the encoder's first stage and of the decoder; 0 = the base's
    (``width // 2`` from scratch). A base with fewer is widened, painting the same picture at the
    start (:func:`stylecam.nets.live.widen_edges`), never narrowed."""
    bf16: str = "auto"
    """bfloat16 autocast: ``auto`` = on CUDA and on CPUs with native bf16 (AVX512-BF16, AMX), ``on``, ``off``."""
    device: str = "auto"
    seed: int = 0
    checkpoint_every: int = 100
    preview_every: int = 100
    log_every: int = 5
    workers: int = 0
    threads: int = 0
    min_image_side: int = 64
    title: str = ""
    artist: str = ""
    credit: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.arch not in ARCH_CHOICES:
            raise StylecamError(f"unknown --arch {self.arch!r}; expected one of {', '.join(ARCH_CHOICES)}")
        if self.device not in DEVICE_CHOICES:
            raise StylecamError(f"unknown --device {self.device!r}; expected one of {', '.join(DEVICE_CHOICES)}")
        for name in ("size", "iters", "batch", "style_size", "style_detail", "checkpoint_every", "preview_every", "log_every"):
            if getattr(self, name) < 1:
                raise StylecamError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if self.size < 32:
            raise StylecamError(f"--size must be at least 32 px (got {self.size})")
        if self.lr <= 0:
            raise StylecamError(f"--lr must be positive (got {self.lr})")
        for name in ("content_weight", "style_weight", "tv_weight", "stability_weight", "stability_noise", "lattice_weight"):
            if getattr(self, name) < 0:
                raise StylecamError(f"--{name.replace('_', '-')} must not be negative (got {getattr(self, name)})")
        if not self.style_layers or not all(self.style_layers):
            raise StylecamError("--style-layers needs at least one VGG16 layer name, e.g. relu1_2,relu2_2,relu3_3")
        if not self.style_scales or not all(0 < x <= 1 for x in self.style_scales) or len(set(self.style_scales)) != len(self.style_scales):
            raise StylecamError(f"--style-scales needs distinct scales in (0, 1], e.g. 1,0.5 (got {','.join(f'{x:g}' for x in self.style_scales) or 'none'})")
        if self.layout not in (0, 1, 2, 3, 4, 5, 6):  # stylecam.nets.live.LAYOUTS, without importing torch here
            raise StylecamError(f"unknown --layout {self.layout!r}; expected 1, 2, 3, 4, 5 or 6")
        if self.layout and self.arch != "live":
            raise StylecamError("--layout is a setting of the live network: it needs --arch live")
        if self.edge_width < 0 or self.edge_width % 2:
            raise StylecamError(f"--edge-width must be a positive even number of channels (got {self.edge_width})")
        if self.edge_width and self.arch != "live":
            raise StylecamError("--edge-width is a setting of the live network: it needs --arch live")
        if self.tune == "norms" and self.edge_width:
            raise StylecamError("--edge-width adds channels to train: it needs --tune all, not norms")
        if self.tune not in TUNE_CHOICES:
            raise StylecamError(f"unknown --tune {self.tune!r}; expected one of {', '.join(TUNE_CHOICES)}")
        if self.bf16 not in BF16_CHOICES:
            raise StylecamError(f"unknown --bf16 {self.bf16!r}; expected one of {', '.join(BF16_CHOICES)}")
        if (self.styles or self.base) and self.arch != "live":
            raise StylecamError("several styles and --base need --arch live")
        if self.tune == "norms" and not self.base:
            raise StylecamError("--tune norms fine-tunes a base network: give --base")
        if self.lr_schedule not in ("constant", "cosine"):
            raise StylecamError(f"unknown lr schedule {self.lr_schedule!r}; expected constant or cosine")
        if self.workers < 0 or self.threads < 0:
            raise StylecamError("--workers and --threads must not be negative")
        if not 0 <= self.stability_shift < self.size // 2:
            raise StylecamError(f"stability shift must be in [0, size/2) (got {self.stability_shift})")

    # --- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["style_layers"] = list(self.style_layers)
        d["styles"] = list(self.styles)
        d["style_scales"] = list(self.style_scales)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise StylecamError(f"unknown training setting {unknown[0]!r} in config")
        d = dict(data)
        for key in ("style_layers", "styles", "style_scales"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StylecamError(f"training config is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict):
            raise StylecamError("training config JSON must be an object")
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> TrainConfig:
        return replace(self, **changes)


# Settings that must match between a checkpoint and the run that resumes it (iters may grow).
RESUME_KEYS = (
    "arch", "size", "batch", "lr", "lr_schedule", "content_weight", "style_weight", "tv_weight", "stability_weight",
    "stability_shift", "stability_noise", "lattice_weight", "style_size", "style_detail", "style_scales", "content_layer", "style_layers", "seed", "min_image_side",
    "styles", "base", "tune", "layout", "edge_width",
)  # fmt: skip

_LIVE_FINE_TUNE: dict[str, Any] = {
    "arch": "live",
    "base": "bundled",
    "size": 192,
    "batch": 4,
    # The loss weights of the bundled base's last training stage (its shared convolutions paint
    # under them). Content at relu3_3, not Johnson's relu2_2: at equal strength it keeps the photo
    # closer at the layer the eye (and stylecam.quality) judges by, while leaving colour and
    # brushwork free (measured on the bundled six: content 1.93e5 vs 1.92e5 at geomean ratio 6.5x
    # vs 6.2x). Stability 5 (not 10-20): stronger styles, and flicker stays far below the goal.
    "content_weight": 5e-4,
    "content_layer": "relu3_3",
    "style_weight": 1e-3,
    "stability_weight": 5.0,
    "stability_shift": 8,
    "style_layers": ("relu1_2", "relu2_2", "relu3_3"),
    # Style loss through the view: the window paints at <= 480 px and the eye (and
    # stylecam.quality) sees that picture at ~80 % of it, beside the painting at 512 px. Measured
    # on Monet's Water Lilies in the live view, quick: 5.61x -> 6.88x at content 1.64e5 -> 1.70e5.
    "style_size": 640,
    "style_scales": (0.8,),
}

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {**_LIVE_FINE_TUNE, "tune": "norms", "iters": 900, "lr": 1e-2, "checkpoint_every": 100, "preview_every": 100},
    "cpu": {**_LIVE_FINE_TUNE, "tune": "all", "iters": 2000, "lr": 1e-3, "checkpoint_every": 200, "preview_every": 200},
    "lite": {},  # the dataclass defaults
    "base": {
        "arch": "live",
        "size": 192,
        "iters": 1200,
        "batch": 6,
        "lr": 2e-3,
        "content_weight": 5e-4,
        "content_layer": "relu3_3",
        "style_weight": 1e-3,
        "stability_weight": 10.0,
        "stability_shift": 8,
        "style_layers": ("relu1_2", "relu2_2", "relu3_3"),
        "checkpoint_every": 50,
        "preview_every": 100,
        "log_every": 10,
    },
    "full": {
        "arch": "full",
        "size": 256,
        "iters": 4000,
        "batch": 8,
        "lr": 1e-3,
        "lr_schedule": "constant",
        "content_weight": 1e-5,
        "style_weight": 3e-4,
        "style_size": 512,
        "style_layers": ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
        "checkpoint_every": 500,
        "preview_every": 250,
        "log_every": 20,
        "workers": 4,
    },
}


def preset(preset_name: str, /, **overrides: Any) -> TrainConfig:
    """The preset ``preset_name`` with ``overrides`` applied (``None`` values ignored).

    A preset made for the ``live`` network starts from its base network; asking it for another
    ``arch`` drops that start (``--preset quick --arch lite`` trains a lite net from scratch).
    """
    if preset_name not in PRESETS:
        raise StylecamError(f"unknown --preset {preset_name!r}; expected one of {', '.join(PRESETS)}")
    values: dict[str, Any] = {**PRESETS[preset_name], "preset": preset_name}
    given = {k: v for k, v in overrides.items() if v is not None}
    if given.get("arch", values.get("arch")) != "live":
        values.pop("base", None)
        values.pop("tune", None)
    values.update(given)
    return TrainConfig(**values)
