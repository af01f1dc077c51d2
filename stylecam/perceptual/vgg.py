"""VGG16 feature extractor with layers addressed by name (``relu1_2`` ... ``relu5_3``).

Weights come from, in this order:

1. an explicit safetensors file (``weights=`` / ``--vgg-weights``) or ``$STYLECAM_VGG_WEIGHTS``:
   torchvision key layout (``features.N.weight``), with the input convention stated in the
   file's metadata ``input`` key (Caffe: BGR, 0-255, mean-subtracted; or torchvision's);
2. torchvision's ImageNet weights, downloaded once with a progress bar (user machines only;
   ``$STYLECAM_NO_DOWNLOAD=1`` forbids it, as the test suite does).

Without either a :class:`~stylecam.errors.WeightsError` says how to get them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from stylecam.errors import WeightsError

Convention = Literal["caffe", "torchvision"]

_NAMES = [
    "conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1",
    "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2",
    "conv3_1", "relu3_1", "conv3_2", "relu3_2", "conv3_3", "relu3_3", "pool3",
    "conv4_1", "relu4_1", "conv4_2", "relu4_2", "conv4_3", "relu4_3", "pool4",
    "conv5_1", "relu5_1", "conv5_2", "relu5_2", "conv5_3", "relu5_3", "pool5",
]  # fmt: skip
LAYER_INDEX: dict[str, int] = {name: i for i, name in enumerate(_NAMES)}
"""Layer name -> index in torchvision's ``vgg16().features``."""

_CONVS_PER_BLOCK = (2, 2, 3, 3, 3)
VGG16_WIDTHS = (64, 128, 256, 512, 512)

_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TV_MEAN_RGB = (0.485, 0.456, 0.406)
_TV_STD_RGB = (0.229, 0.224, 0.225)


def make_vgg16_features(widths: Sequence[int] = VGG16_WIDTHS) -> nn.Sequential:
    """VGG16's ``features`` layout (31 modules, indices as torchvision) with the given block widths."""
    layers: list[nn.Module] = []
    in_ch = 3
    for width, n_convs in zip(widths, _CONVS_PER_BLOCK, strict=True):
        for _ in range(n_convs):
            layers += [nn.Conv2d(in_ch, width, 3, padding=1), nn.ReLU()]
            in_ch = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def tiny_vgg_features(seed: int = 0) -> nn.Sequential:
    """A randomly initialised VGG16-shaped network, 16x narrower: for fast tests, never for art."""
    gen = torch.random.fork_rng()
    with gen:
        torch.manual_seed(seed)
        return make_vgg16_features((4, 8, 16, 32, 32))


@dataclass(frozen=True)
class VGGWeights:
    """A VGG16 ``features`` state dict (keys ``"0.weight"`` ...) and its input convention."""

    state_dict: dict[str, torch.Tensor]
    convention: Convention
    origin: str


def _convention_from_metadata(text: str) -> Convention:
    t = text.lower()
    if "bgr" in t or "caffe" in t:
        return "caffe"
    if "rgb" in t or "torchvision" in t:
        return "torchvision"
    raise WeightsError(f"cannot tell the input convention from the weights metadata {text!r}")


def _load_safetensors(path: Path) -> VGGWeights:
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise WeightsError(f"VGG weights file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"cannot read VGG weights {path}: {str(exc).splitlines()[0]}") from None
    if "input" not in meta:
        raise WeightsError(f"VGG weights {path} do not state their input convention (metadata key 'input')")
    state = {k.removeprefix("features."): v.float() for k, v in tensors.items() if k.startswith("features.")}
    if not state:
        raise WeightsError(f"{path} holds no VGG16 'features.N' tensors")
    return VGGWeights(state, _convention_from_metadata(meta["input"]), origin=str(path))


def _download_torchvision() -> VGGWeights:
    if os.environ.get("STYLECAM_NO_DOWNLOAD"):
        raise WeightsError(
            "no VGG16 weights: pass --vgg-weights FILE.safetensors or set STYLECAM_VGG_WEIGHTS "
            "(downloads are disabled by STYLECAM_NO_DOWNLOAD)"
        )
    from torchvision.models import VGG16_Weights

    try:
        state = VGG16_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
    except Exception as exc:  # network errors come in many types
        raise WeightsError(
            f"could not download torchvision's VGG16 weights ({type(exc).__name__}); connect to the "
            "internet once, or pass --vgg-weights FILE.safetensors / set STYLECAM_VGG_WEIGHTS"
        ) from None
    feats = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    return VGGWeights(feats, "torchvision", origin="torchvision VGG16_Weights.IMAGENET1K_V1")


def load_vgg16_weights(path: str | os.PathLike[str] | None = None) -> VGGWeights:
    """Resolve VGG16 weights: ``path``, then ``$STYLECAM_VGG_WEIGHTS``, then torchvision's download."""
    chosen = path if path is not None else os.environ.get("STYLECAM_VGG_WEIGHTS") or None
    if chosen is not None:
        return _load_safetensors(Path(chosen))
    return _download_torchvision()


class VGGFeatures(nn.Module):
    """Frozen VGG16 trunk returning the activations of the named layers.

    forward(images): images (N, 3, H, W) float, **RGB, 0-255**; returns ``{name: (N, C, h, w)}``
    for each requested layer. The weights' input convention (Caffe BGR mean-subtracted or
    torchvision's normalisation) is applied inside, so callers never deal with it.
    Only the trunk up to the deepest requested layer is kept (and run).
    """

    def __init__(
        self,
        layers: Iterable[str],
        *,
        weights: VGGWeights | None = None,
        features: nn.Sequential | None = None,
        convention: Convention = "caffe",
        pooling: Literal["max", "avg"] = "max",
    ) -> None:
        super().__init__()
        self.layers = list(dict.fromkeys(layers))
        unknown = [name for name in self.layers if name not in LAYER_INDEX]
        if unknown or not self.layers:
            raise WeightsError(
                f"unknown VGG16 layer {unknown[0] if unknown else '(none)'!r}; "
                f"expected names like relu1_2, relu3_3, relu4_3 ({', '.join(n for n in _NAMES if n.startswith('relu'))})"
            )
        if features is None:
            features = make_vgg16_features()
            if weights is None:
                weights = load_vgg16_weights()
            missing, _ = features.load_state_dict(weights.state_dict, strict=False)
            convs = [k for k in missing if not k.endswith("num_batches_tracked")]
            if convs:
                raise WeightsError(f"VGG weights from {weights.origin} lack {len(convs)} tensors, e.g. {convs[0]}")
            convention = weights.convention
        last = max(LAYER_INDEX[name] for name in self.layers)
        trunk = [nn.AvgPool2d(2, 2) if isinstance(m, nn.MaxPool2d) and pooling == "avg" else m for m in features[: last + 1]]
        # ReLUs must not be in-place: we hand their outputs out and keep computing.
        self.trunk = nn.Sequential(*(nn.ReLU() if isinstance(m, nn.ReLU) else m for m in trunk))
        self.trunk.requires_grad_(False)
        self.trunk.eval()
        self.convention: Convention = convention
        self._wanted = {LAYER_INDEX[name]: name for name in self.layers}
        if convention == "caffe":
            mean = torch.tensor(_CAFFE_MEAN_BGR[::-1]).view(1, 3, 1, 1)  # stored as RGB order
            scale = torch.ones(1, 3, 1, 1)
        else:
            mean = torch.tensor(_TV_MEAN_RGB).view(1, 3, 1, 1) * 255.0
            scale = 1.0 / (torch.tensor(_TV_STD_RGB).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("scale", scale, persistent=False)

    def train(self, mode: bool = True) -> VGGFeatures:  # the trunk never trains
        super().train(mode)
        self.trunk.eval()
        return self

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """RGB 0-255 -> the network's input convention (BGR order for Caffe weights)."""
        x = (images - self.mean.to(images.dtype)) * self.scale.to(images.dtype)
        return x.flip(1) if self.convention == "caffe" else x

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.forward_normalized(self.normalize(images))

    def forward_normalized(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The features of an already :meth:`normalize`-d input (in the trunk's dtype)."""
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.trunk):
            x = module(x)
            if i in self._wanted:
                out[self._wanted[i]] = x
        return out
