"""Training configuration: one dataclass, two presets, JSON round-trip.

Presets (see docs/TRAINING.md for the measurements behind them):

``quick`` -- a LITE style on a laptop CPU in about 10-15 minutes (2 idle cores). VGG16 runs only up
to relu3_3 (style relu1_2, relu2_2, relu3_3; content relu2_2): block 4 costs ~40 % of the trunk at
little style signal a small, shallow network can use. Training crops are
192 px, batch 2, Adam at lr 1e-2 with cosine decay to 1e-3 (the lite net is small and tolerates it;
at 3e-3 the style loss fell 4x slower), 600 steps: 1 200 crops seen, ~1.2 s/step with one thread
(``--threads 1``) on the shared 2-core machine. The lite net starts as the identity (it learns a
change to its input), so content is readable from step 0 and the preset weights style strongly:
content 5e-5, style 1e-3. The style image is scaled to 512 px on its long side, like the full preset's.

``full`` -- the GPU recipe of the bundled styles: 256 px crops, batch 8, 4 000 steps (32 000
images seen, in the range of Johnson et al.'s 40 000), Adam lr 1e-3, style layers relu1_2 ...
relu4_3, bf16/fp16 autocast, data loading in 4 workers.

Loss weights are for VGG16 with Caffe weights fed 0-255 inputs (the shared safetensors file);
torchvision-normalised weights produce features ~60x smaller, so the trainer rescales the weights
when the loaded VGG uses that convention (``training.train.build_perceptual``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from stylecam.errors import StylecamError

ARCH_CHOICES = ("full", "lite")
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
    style_size: int = 512
    content_layer: str = "relu2_2"
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3")
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
        for name in ("size", "iters", "batch", "style_size", "checkpoint_every", "preview_every", "log_every"):
            if getattr(self, name) < 1:
                raise StylecamError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if self.size < 32:
            raise StylecamError(f"--size must be at least 32 px (got {self.size})")
        if self.lr <= 0:
            raise StylecamError(f"--lr must be positive (got {self.lr})")
        for name in ("content_weight", "style_weight", "tv_weight", "stability_weight", "stability_noise"):
            if getattr(self, name) < 0:
                raise StylecamError(f"--{name.replace('_', '-')} must not be negative (got {getattr(self, name)})")
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
        if "style_layers" in d:
            d["style_layers"] = tuple(d["style_layers"])
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
    "stability_shift", "stability_noise", "style_size", "content_layer", "style_layers", "seed", "min_image_side",
)  # fmt: skip

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {},  # the dataclass defaults are the quick preset
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
    """The preset ``preset_name`` (``quick`` or ``full``) with ``overrides`` applied (``None`` values ignored)."""
    if preset_name not in PRESETS:
        raise StylecamError(f"unknown --preset {preset_name!r}; expected one of {', '.join(PRESETS)}")
    values: dict[str, Any] = {**PRESETS[preset_name], "preset": preset_name}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**values)
