"""``live``: the real-time multi-style network (conditional instance norm) of the bundled styles.

Design, for 20+ fps at 640x480 on a 2-core laptop CPU through ONNX Runtime:

- **Reduced internal resolution**: the frame is first area-averaged to half size; everything
  runs there and the result is enlarged bilinearly at the end. Strokes scale with the processing
  resolution, so this also gives the broad, painterly strokes the paintings have; the cost of
  the network falls 4x. The enlargement belongs to the network (and so to the style file): the
  app needs no flag for it.
- **Cheap ends, work at low resolution**: stride-2 convs down to 1/4 of the internal size (1/8 of
  the frame), depthwise-separable residual blocks there (large receptive field at little cost),
  one separable upsampling conv back up, a pixel-shuffle tail. (A first version ran its blocks at
  1/16 of the frame: in training it stamped one repeating motif per cell, the same for every style.)
- **Conditional instance normalisation** (Dumoulin, Shlens & Kudlur 2017): one network holds
  ``n_styles`` styles; a style is its own scale/shift (gamma, beta) in every norm layer, the
  convolutions are shared. Style mixtures are weighted means of the gamma/beta rows.
  :meth:`LiveNet.single_style` bakes one style (or a mixture) into a one-style network, which is
  what a style file holds.

Unlike ``lite`` the output is not added to the input: a painting may change every colour of the
photo, and a residual to the photo biased short CPU trainings towards leaving it as it was.

Five layouts (``layout`` in the network's config; files without it are layout 1); 1, 2, 4 and 5
have the same parameters, 3 a smaller last conv:

- **1**: 2x2 average in, strided convs down to 1/8 of the frame, the residual blocks there,
  nearest-neighbour upsampling back to 1/4. Not shift-equivariant below its stride of 8 frame
  pixels: a 4 px pan moves the content half a cell of the trunk, and the strokes jump instead of
  moving with the scene (flicker; measured on the bundled styles, a 4 px pan flickers 5-7x more
  than an 8 px one).
- **2** (default, the bundled styles): the same network computed densely at 1/4 of the frame ("a trous", Holschneider
  et al. 1989; the trick of dense prediction nets): the second conv keeps its 3x3 kernel but not its
  stride, and the trunk's depthwise kernels are dilated by 2, so every layer sees the same
  footprint in frame pixels as in layout 1 but is evaluated at every 1/4-frame position instead
  of every other one. Add an anti-aliasing binomial blur before the first conv and the second, and
  on the trunk's output (Zhang 2019, "Making Convolutional Networks Shift-Invariant Again"), and
  the encoder's 1/4-scale features added to the decoder's (a U-Net-style skip: the strokes follow
  the photo's edges). Every stage is then strided by 4 frame pixels at most, so a pan by a multiple
  of 4 px moves the strokes with the scene, and other pans jitter at half the period. It costs 3x
  the FLOPs (2.8 GFLOPs at 640x480, ~26 ms on 2 Zen 4 cores in ONNX Runtime; 24-44 fps end to
  end, docs/PERFORMANCE.md). A layout-1 network loads into layout 2 unchanged (:func:`upgrade_layout`): a warm start
  close to the same picture, not the same function.
- **3** (``stylecam train --layout 3``; not the bundled styles' layout, see docs/STYLES.md): layout 2 without its two pattern makers. (a) With every trunk kernel dilated by
  2, the trunk is four independent networks on the four parity sub-grids of the 1/4-scale map
  ("gridding", Yu & Koltun 2016); the style loss trained them apart, and every bundled style of
  layout 2 wore a diagonal mesh with an 8 px period. Layout 3 dilates only the second conv of each
  block (1, 2 alternating: Wang et al. 2018), so neighbours mix in every block. (b) The sub-pixel
  tail (12 channels, pixel shuffle) paints a 2x2 checkerboard even on a flat frame; layout 3
  upsamples the decoder's features bilinearly to 1/2 and ends with a 3x3 conv to RGB there
  (resize-convolution, Odena et al. 2016). Same FLOPs (the last conv has 1/4 of the outputs at 4x
  the positions). A layout-2 network upgrades with each colour's four sub-pixel filters averaged.
- **4**: layout 2 with its picture low-passed at 1/2 of the frame (the binomial blur, after the
  pixel shuffle, before the final enlargement). The 2x2 sub-pixel cells of layout 2 paint a lattice
  with a period of 4 frame pixels, anchored to the network's grid, not to the scene: on a pan that
  is not a multiple of 4 px it stays put while the scene moves, and the picture shimmers (measured
  on the layout-2 styles: 5-14 levels at pans of 1-3, 5-7 px, 1-2 levels at 4 and 8 px). The blur
  has a zero at exactly that frequency. Same weights as layout 2 (an upgrade is exact); training
  in it makes the network paint strokes the eye sees instead of the lattice (docs/STYLES.md).
- **5** (``stylecam train --layout 5``; The Starry Night and The Great Wave since 2026-12-04): layout 2 with
  the trunk's output blurred at dilation 1 instead of 2. Layout 2's trunk computes four
  independent networks on the four parity sub-grids of the 1/4-scale map (see 3), and its blur
  there, dilated by 2 like the trunk, stays inside each sub-grid: the sub-grids' disagreement
  reaches the picture as a diagonal mesh with an 8 px period. The undilated binomial blur has a
  zero at exactly that frequency, so the decoder never sees the mesh; the trunk keeps its weights
  (same parameters, same FLOPs; an upgrade from 2 is a warm start, not the same picture). 600
  steps from its layout-2 file took The Great Wave from 4.36x to 7.24x in the live view at 75 %,
  and its cross-hatched net became curved wave lines (docs/STYLES.md).
- **6** (``stylecam train --layout 6``): layout 5 with a 4x4 sub-pixel tail: the last conv gives
  48 channels at 1/4 of the frame and a pixel shuffle makes RGB at the frame's own resolution, where
  layouts 1-5 paint at 1/2 and enlarge bilinearly. The picture can hold detail down to one frame
  pixel (what a Gram loss asks of a painting's strokes), for 4x the last conv's FLOPs (+0.11 GMACs
  at 480x360, ~+14 %). An upgrade from 2 or 5 gives each 4x4 cell the 2x2 cell it had (nearest):
  a warm start close to the same picture, blockier until trained.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from stylecam.nets.layers import ConvLayer, upsample_to


OUTPUT_GAIN = 64.0
"""Fixed gain of the last conv (output levels per unit), so training starts with a visible picture."""

LAYOUTS = (1, 2, 3, 4, 5, 6)
DEFAULT_LAYOUT = 2
UPGRADES: dict[int, tuple[int, ...]] = {1: (2, 3, 4, 5, 6), 2: (3, 4, 5, 6), 3: (), 4: (), 5: (6,), 6: ()}
"""The layouts each layout can be upgraded into with its weights (:func:`upgrade_layout`)."""
TAIL_CHANNELS: dict[int, int] = {3: 3, 6: 48}
"""Output channels of the last conv of the layouts whose tail is not the 12-channel 2x2 sub-pixel one."""


def layout_of_tail(channels: int) -> int | None:
    """The layout a last conv of ``channels`` outputs belongs to; None for 12 (layouts 1, 2, 4 and 5)."""
    return next((layout for layout, c in TAIL_CHANNELS.items() if c == channels), None)


class Blur(nn.Module):
    """Binomial [1, 2, 1]^2 / 16 low-pass per channel (reflection padded), optionally subsampled.

    forward(x): x (N, channels, H, W) float. stride 1 keeps the size; stride 2 gives
    (ceil(H/2), ceil(W/2)), the size a ``ceil_mode`` 2x2 pooling gives, so both layouts share
    one geometry. The kernel is a fixed, non-persistent buffer: no parameters, nothing in the state dict.
    """

    def __init__(self, channels: int, *, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (k[:, None] * k[None, :] / 16.0).expand(channels, 1, 3, 3).clone(), persistent=False)
        self.pad = nn.ReflectionPad2d(dilation)
        self.stride = stride
        self.dilation = dilation
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.pad(x), self.kernel.to(x.dtype), stride=self.stride, dilation=self.dilation, groups=self.channels)


class CondInstanceNorm(nn.Module):
    """Instance norm whose affine scale/shift is chosen (or mixed) per sample from ``n_styles`` rows.

    forward(x, mix): x (N, C, H, W) float; mix None (only with n_styles == 1) or (N, n_styles)
    float weights summing to 1 per row. gamma = mix @ weight, beta = mix @ bias.
    """

    def __init__(self, channels: int, n_styles: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_styles, channels))
        self.bias = nn.Parameter(torch.zeros(n_styles, channels))

    @property
    def n_styles(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        if mix is None:
            if self.n_styles != 1:
                raise ValueError(f"a network of {self.n_styles} styles needs a style mix")
            # One style: plain InstanceNormalization with scale/bias (one ONNX op).
            return F.instance_norm(x, weight=self.weight[0], bias=self.bias[0], eps=1e-5)
        gamma = (mix.to(self.weight.dtype) @ self.weight).to(x.dtype)
        beta = (mix.to(self.bias.dtype) @ self.bias).to(x.dtype)
        return F.instance_norm(x, eps=1e-5) * gamma[:, :, None, None] + beta[:, :, None, None]


class _SeparableConv(nn.Module):
    """Depthwise 3x3 (reflection padded, optionally dilated) then pointwise 1x1."""

    def __init__(self, cin: int, cout: int, dilation: int = 1) -> None:
        super().__init__()
        self.depthwise = ConvLayer(cin, cin, kernel_size=3, groups=cin, dilation=dilation)
        self.pointwise = nn.Conv2d(cin, cout, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int, n_styles: int, dilations: tuple[int, int] = (1, 1)) -> None:
        super().__init__()
        self.conv1 = _SeparableConv(channels, channels, dilations[0])
        self.norm1 = CondInstanceNorm(channels, n_styles)
        self.conv2 = _SeparableConv(channels, channels, dilations[1])
        self.norm2 = CondInstanceNorm(channels, n_styles)

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x), mix))
        return x + self.norm2(self.conv2(y), mix)


class LiveNet(nn.Module):
    """The ``live`` network.

    forward(x, mix=None): x (N, 3, H, W) float RGB 0-255, any H, W >= 32 -> (N, 3, H, W) float,
    approximately 0-255. ``mix``: (N, n_styles) style weights (rows sum to 1); None for a
    one-style network. Use :meth:`style_mix` to make one-hot rows from style indices.
    Layout 1 (sizes relative to the frame): 2x2 average -> conv5x5/2 (w/2 ch, 1/4) -> conv3x3/2
    (w, 1/8) -> ``blocks`` separable residual blocks -> nearest upsample, separable conv (w/2,
    1/4) -> conv3x3 to 12 ch + pixel shuffle (RGB at 1/2) -> bilinear to the frame size. Layout 2:
    the same at 1/4 throughout (conv3x3 without stride, residual blocks dilated by 2), blurs before
    conv5x5/2 and conv3x3 and after the blocks, and the conv5x5/2 output added before the decoder's
    norm. Layout 4: layout 2 with a binomial blur on the RGB at 1/2. Layout 5: layout 2 with the blur after the blocks undilated. Layout 6: layout 5 with a conv3x3 to 48 ch + pixel shuffle by 4 (RGB at the frame's resolution, no enlargement). Layout 3: as layout 2 with block dilations (1, 2) and, instead of the 12-channel conv and
    pixel shuffle, a bilinear upsample to 1/2 and a conv3x3 to RGB there. No skip from the input: the instance norms
    remove the photo's global colour, so the painting's palette comes from the style's beta. Every norm is a :class:`CondInstanceNorm`.
    ``edge_width`` (default ``width // 2``, the "w/2" above): the channels of conv5x5/2 and of the
    decoder, the features the tail paints from (:func:`widen_edges`).
    """

    arch = "live"

    def __init__(
        self, n_styles: int = 1, width: int = 64, blocks: int = 5, layout: int = DEFAULT_LAYOUT, *, edge_width: int | None = None
    ) -> None:
        super().__init__()
        if n_styles < 1:
            raise ValueError("n_styles must be at least 1")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown live layout {layout!r}; expected one of {LAYOUTS}")
        w1, w2 = edge_width or width // 2, width
        self.config: dict[str, Any] = {"n_styles": n_styles, "width": width, "blocks": blocks, "layout": layout}
        if w1 != width // 2:
            self.config["edge_width"] = w1
        self.conv1 = ConvLayer(3, w1, kernel_size=5, stride=2)
        self.norm1 = CondInstanceNorm(w1, n_styles)
        # Layout 2 computes the trunk densely ("a trous"): no subsampling, kernels dilated instead.
        dense = layout >= 2
        self.conv2 = ConvLayer(w1, w2, kernel_size=3, stride=1 if dense else 2)
        self.norm2 = CondInstanceNorm(w2, n_styles)
        # Layout 3 alternates dilation 1 and 2 ("hybrid dilated convolution", Wang et al. 2018):
        # with dilation 2 everywhere the four parity sub-grids of the trunk never mix, and the
        # style loss trains them apart into a diagonal mesh.
        dilations = {1: (1, 1), 2: (2, 2), 3: (1, 2), 4: (2, 2), 5: (2, 2), 6: (2, 2)}[layout]
        self.res = nn.ModuleList(_ResidualBlock(w2, n_styles, dilations) for _ in range(blocks))
        self.up = _SeparableConv(w2, w1)
        self.norm3 = CondInstanceNorm(w1, n_styles)
        # Layouts 1-2 end with a sub-pixel (pixel-shuffle) conv, which paints a 2x2 checkerboard
        # the style loss rewards; layout 3 upsamples first and then convolves (Odena et al. 2016).
        self.out = ConvLayer(w1, TAIL_CHANNELS.get(layout, 12), kernel_size=3)
        if dense:
            self.blur1 = Blur(3)
            self.blur2 = Blur(w1)
            # layout 2 blurs the trunk's output within each parity sub-grid; 3, 5 and 6 across them
            self.blur3 = Blur(w2, dilation=1 if layout in (3, 5, 6) else 2)
        if layout == 4:
            self.blur_out = Blur(3)

    @classmethod
    def like(
        cls, net: LiveNet, *, n_styles: int | None = None, layout: int | None = None, edge_width: int | None = None
    ) -> LiveNet:
        """A freshly initialised network of ``net``'s shape (width, blocks, edge width), with another
        number of styles, layout or edge width where given."""
        return cls(
            net.n_styles if n_styles is None else n_styles,
            width=int(net.config["width"]),
            blocks=int(net.config["blocks"]),
            layout=net.layout if layout is None else layout,
            edge_width=edge_width or net.edge_width,
        )

    @property
    def layout(self) -> int:
        return int(self.config["layout"])

    @property
    def edge_width(self) -> int:
        """Channels of the encoder's first stage and of the decoder (``width // 2`` unless set)."""
        return int(self.config.get("edge_width", self.config["width"] // 2))

    @property
    def n_styles(self) -> int:
        return int(self.config["n_styles"])

    def style_mix(self, styles: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """(N,) style indices -> (N, n_styles) one-hot float32 mix on the network's device."""
        idx = torch.as_tensor(styles, dtype=torch.long, device=self.norm1.weight.device)
        return F.one_hot(idx, self.n_styles).float()

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        half = F.avg_pool2d(x, kernel_size=2, stride=2, ceil_mode=True, count_include_pad=False)
        smooth = self.layout >= 2
        y1 = F.relu(self.norm1(self.conv1(self.blur1(half) if smooth else half), mix))
        y = F.relu(self.norm2(self.conv2(self.blur2(y1) if smooth else y1), mix))
        for block in self.res:
            y = block(y, mix)
        y = self.blur3(y) if smooth else upsample_to(y, y1)
        # Layouts 2-3: a skip from the encoder at 1/4 of the frame, so that the decoder paints on the
        # photo's edges at its own resolution (faces, content) instead of only on the blurred trunk.
        y = F.relu(self.norm3(self.up(y) + y1 if smooth else self.up(y), mix))
        if self.layout == 3:
            y = self.out(F.interpolate(y, size=half.shape[-2:], mode="bilinear", align_corners=False))
        elif self.layout == 6:
            # 4x4 sub-pixel cells straight to the frame's resolution: nothing left to enlarge
            return 127.5 + OUTPUT_GAIN * F.pixel_shuffle(self.out(y), 4)[:, :, :h, :w]
        else:
            y = F.pixel_shuffle(self.out(y), 2)[:, :, : half.shape[2], : half.shape[3]]
        # Levels around mid-grey with a fixed gain: with default init the last conv gives outputs of
        # about +-0.5, and Adam would spend thousands of steps growing its weights to the 0-255 range.
        y = 127.5 + OUTPUT_GAIN * y
        if self.layout == 4:
            y = self.blur_out(y)
        return F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)

    def norms(self) -> list[CondInstanceNorm]:
        """Every conditional norm layer, in a fixed order."""
        return [m for m in self.modules() if isinstance(m, CondInstanceNorm)]

    def single_style(self, mix: int | Sequence[float]) -> LiveNet:
        """A one-style copy with style ``mix`` (an index, or one weight per style) baked in."""
        weights = torch.zeros(self.n_styles)
        if isinstance(mix, int):
            if not 0 <= mix < self.n_styles:
                raise ValueError(f"style index {mix} out of range 0..{self.n_styles - 1}")
            weights[mix] = 1.0
        else:
            weights = torch.as_tensor(list(mix), dtype=torch.float32)
            if weights.shape != (self.n_styles,) or (weights < 0).any() or weights.sum() <= 0:
                raise ValueError(f"a style mix needs {self.n_styles} non-negative weights, not all zero")
            weights = weights / weights.sum()
        one = LiveNet.like(self, n_styles=1)
        state = copy.deepcopy(self.state_dict())
        for key, norm_name in _norm_keys(self):
            state[key] = (weights.to(state[key].dtype) @ state[key].cpu())[None].to(state[key].device)
        one.load_state_dict(state)
        return one.to(self.norm1.weight.device)


def _norm_keys(net: LiveNet) -> list[tuple[str, str]]:
    """State-dict keys of every gamma/beta table, with the module name they belong to."""
    keys = []
    for name, module in net.named_modules():
        if isinstance(module, CondInstanceNorm):
            keys += [(f"{name}.weight", name), (f"{name}.bias", name)]
    return keys


def style_parameter_names(net: LiveNet) -> list[str]:
    """Names of the per-style parameters (gamma/beta tables): what a style fine-tune trains."""
    return [k for k, _ in _norm_keys(net)]


def upgrade_layout(net: LiveNet, layout: int = DEFAULT_LAYOUT) -> LiveNet:
    """A copy of ``net`` (any number of styles) in a later ``layout``, with its weights (a warm start).

    Into layout 3, the sub-pixel conv's four filters per colour (12 outputs, pixel-shuffle order
    ``colour * 4 + sub-pixel``) are averaged into one: the 2x2 mean of the old picture. Into layout
    6, each of the 16 filters of a colour's 4x4 cell is the filter of the 2x2 sub-pixel it covers.
    """
    if layout != net.layout and layout not in UPGRADES[net.layout]:
        raise ValueError(f"cannot upgrade a layout-{net.layout} network to layout {layout!r}")
    new = LiveNet.like(net, layout=layout)
    state = copy.deepcopy(net.state_dict())
    if layout == 3 and net.layout < 3:
        w, b = state["out.conv2d.weight"], state["out.conv2d.bias"]
        state["out.conv2d.weight"] = w.reshape(3, 4, *w.shape[1:]).mean(1)
        state["out.conv2d.bias"] = b.reshape(3, 4).mean(1)
    if layout == 6 and net.layout != 6:
        # output channel colour * 16 + 4 * i + j (pixel-shuffle order) takes sub-pixel (i // 2, j // 2) of the 2x2 cell
        i, j = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
        src = (torch.arange(3)[:, None] * 4 + ((i // 2) * 2 + j // 2).reshape(1, 16)).reshape(48)
        state["out.conv2d.weight"] = state["out.conv2d.weight"][src].clone()
        state["out.conv2d.bias"] = state["out.conv2d.bias"][src].clone()
    new.load_state_dict(state)
    return new.to(net.norm1.weight.device)


def widen_edges(net: LiveNet, edge_width: int) -> LiveNet:
    """A copy of ``net`` with ``edge_width`` channels in its encoder's first stage and its decoder, painting the same picture.

    The edges (conv1 and the decoder at 1/4 of the frame, ``width // 2`` channels by default) hold
    the features the tail paints the picture's finest detail from; widening them costs little
    (the trunk is ``width`` wide). As in Net2Net (Chen, Goodfellow & Shlens 2016) the new channels
    get freshly initialised filters into them, unit gamma and zero beta, and zero weights out of
    them (conv2's and the tail's inputs), so the picture is unchanged until training uses them.
    """
    if edge_width < net.edge_width:
        raise ValueError(f"cannot narrow the edges from {net.edge_width} to {edge_width} channels")
    new = LiveNet.like(net, edge_width=edge_width)
    state = new.state_dict()
    with torch.no_grad():
        for key, old in net.state_dict().items():
            grown = state[key]
            if grown.shape != old.shape:
                if grown.dim() == 1 or (grown.dim() == 4 and grown.shape[1] != old.shape[1]):
                    grown.zero_()  # the bias of a new output channel; a weight out of a new channel
                grown[tuple(slice(0, n) for n in old.shape)] = old
            else:
                grown.copy_(old)
    new.load_state_dict(state)
    return new.to(net.norm1.weight.device)
