"""The ``live`` base network file: a multi-style network that new styles are fine-tuned from.

One safetensors file, self-describing: tensors are the network's state dict; metadata holds
``format``, ``arch`` (``live``), ``net_config`` (JSON: n_styles, width, blocks, layout and, where not
``width // 2``, edge_width; a file without ``layout`` is layout 1, see :mod:`stylecam.nets.live`), ``styles`` (JSON
list of the style names, in gamma/beta row order) and ``train_config`` (JSON). The bundled base
(``stylecam/assets/live_base.safetensors``) is the network of the bundled styles, so that
``stylecam train`` and the window's "New style…" start from it offline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import stylecam
from stylecam.atomic import atomic_write_bytes
from stylecam.errors import StylecamError
from stylecam.nets.live import DEFAULT_LAYOUT, LAYOUTS, LiveNet, layout_of_tail, style_parameter_names, upgrade_layout
from stylecam.training.checkpoint import safetensors_metadata

FORMAT = "stylecam-live-base/1"
BUNDLED = "bundled"
BUNDLED_BASE = Path(stylecam.__file__).resolve().parent / "assets" / "live_base.safetensors"


@dataclass
class BaseNet:
    net: LiveNet
    styles: list[str]
    train_config: dict[str, Any]


def resolve_base(spec: str) -> Path:
    """``bundled`` -> the shipped base file; anything else is a path."""
    if spec == BUNDLED:
        if BUNDLED_BASE.is_file():
            return BUNDLED_BASE
        raise StylecamError("the bundled base network is missing from this installation; give --base FILE or --tune all without --base")
    return Path(spec)


def save_base(path: str | os.PathLike[str], net: LiveNet, *, styles: list[str], train_config: dict[str, Any]) -> Path:
    """Write ``net`` (n_styles == len(styles)) atomically as a base file."""
    if len(styles) != net.n_styles:
        raise ValueError(f"{net.n_styles} styles in the network but {len(styles)} names")
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in net.state_dict().items()}
    meta = {
        "format": FORMAT,
        "arch": "live",
        "net_config": json.dumps(net.config),
        "styles": json.dumps(styles),
        "train_config": json.dumps(train_config),
    }
    out = Path(path)
    atomic_write_bytes(out, st_save(tensors, metadata=meta))
    return out


def load_base(spec: str | os.PathLike[str]) -> BaseNet:
    """Read a base file (``bundled``, a path, or a ``live`` style file ``.onnx``: see
    :func:`base_from_style_file`); StylecamError with one line if it is missing or not one."""
    path = resolve_base(str(spec))
    if path.suffix.lower() == ".onnx":
        return base_from_style_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StylecamError(f"cannot read base network {path}: {exc.strerror or exc}") from None
    try:
        tensors = st_load(data)
        meta = safetensors_metadata(data)
    except (SafetensorError, ValueError, OSError) as exc:
        raise StylecamError(f"base network {path} is not a safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise StylecamError(f"{path} is not a stylecam base network (format {meta.get('format')!r})")
    try:
        config = json.loads(meta["net_config"])
        layout = int(config.get("layout", 1))
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout}")
        net = LiveNet(
            int(config["n_styles"]), width=int(config["width"]), blocks=int(config["blocks"]), layout=layout,
            edge_width=config.get("edge_width"),
        )
        net.load_state_dict(tensors)
        styles = list(json.loads(meta["styles"]))
        train_config = json.loads(meta.get("train_config", "{}"))
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise StylecamError(f"base network {path} is damaged ({str(exc).splitlines()[0]})") from None
    return BaseNet(net=net, styles=styles, train_config=train_config)


def base_from_style_file(path: str | os.PathLike[str]) -> BaseNet:
    """The one-style ``live`` network inside a style file (``NAME.onnx``, float32), as a base to fine-tune.

    The convolutions are read by name from the graph's initializers, the gamma/beta of each
    InstanceNormalization in graph order. The layout is not stored in the graph, so every layout
    the weights fit is rebuilt and the one whose picture matches the file's own (run in ONNX
    Runtime on a test frame, within 1 level) is returned: a file this cannot reproduce is refused.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from stylecam.engine import load_engine
    from stylecam.nets.live import CondInstanceNorm
    from stylecam.styles import read_style_file
    from stylecam.styles.graph import FrameStylizer
    from stylecam.styles.library import Style

    path = Path(path)
    try:
        info = read_style_file(path)
        graph = onnx.load(str(path)).graph
    except (StylecamError, OSError, ValueError, onnx.onnx_cpp2py_export.checker.ValidationError) as exc:  # type: ignore[attr-defined]
        raise StylecamError(f"cannot read style file {path}: {str(exc).splitlines()[0]}") from None
    if info.arch != "live":
        raise StylecamError(f"{path} is a {info.arch} style; only live styles can be a base")
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    # The exporter may emit a tensor equal to another (e.g. untrained gamma rows) as a Constant, or
    # as an Identity of the first.
    inits.update({n.output[0]: numpy_helper.to_array(a.t) for n in graph.node if n.op_type == "Constant" for a in n.attribute if a.name == "value"})
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    norms = [(n.input[1], n.input[2]) for n in graph.node if n.op_type == "InstanceNormalization"]
    try:
        width = int(inits["net.conv2.conv2d.weight"].shape[0])
        blocks = sum(1 for k in inits if k.startswith("net.res.") and k.endswith(".conv1.pointwise.weight"))
        tail = int(inits["net.out.conv2d.weight"].shape[0])
        edge = int(inits["net.conv1.conv2d.weight"].shape[0])
    except KeyError as exc:
        raise StylecamError(f"{path} does not hold a live network's weights ({exc.args[0]} missing)") from None
    engine = load_engine(Style(info=info, path=path, fp16_path=None, location="file"), provider="cpu")
    frame = np.random.default_rng(0).integers(0, 256, (72, 88, 3), dtype=np.uint8)
    want = engine.run(frame).astype(np.float32)
    own = layout_of_tail(tail)
    for layout in (own,) if own is not None else (2, 5, 4, 1):
        net = LiveNet(1, width=width, blocks=blocks, layout=layout, edge_width=edge)
        state = net.state_dict()
        names = [name for name, module in net.named_modules() if isinstance(module, CondInstanceNorm)]
        if len(names) != len(norms):
            continue
        try:
            for key in state:
                if f"net.{key}" in inits:
                    state[key] = torch.from_numpy(inits[f"net.{key}"].copy())
            for name, (scale, bias) in zip(names, norms):
                state[f"{name}.weight"] = torch.from_numpy(inits[scale].copy())[None]
                state[f"{name}.bias"] = torch.from_numpy(inits[bias].copy())[None]
            net.load_state_dict(state)
        except (KeyError, RuntimeError):
            continue
        with torch.no_grad():
            got = FrameStylizer(net.eval())(torch.from_numpy(frame[None]))[0].numpy().astype(np.float32)
        if float(np.abs(got - want).max()) <= 1.0:
            return BaseNet(net=net, styles=[info.name], train_config=dict(info.train_config or {}))
    raise StylecamError(f"{path}: no live layout reproduces this style file's picture")


def base_from_checkpoint(path: str | os.PathLike[str]) -> BaseNet:
    """The multi-style network of a ``base`` training checkpoint (e.g. to export before the run ends)."""
    from stylecam.training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    config = ckpt.config
    images = [config.style, *config.styles]
    if config.arch != "live":
        raise StylecamError(f"{path} is a checkpoint of a {config.arch} network, not of a live base")
    # The tail's shape tells layouts 3 and 6 from the 2x2 sub-pixel layouts; of those, the asked layout says 4 or 5.
    own = layout_of_tail(int(ckpt.net_state["out.conv2d.weight"].shape[0]))
    layout = own if own is not None else config.layout if config.layout in (4, 5) else 2
    state = ckpt.net_state
    net = LiveNet(len(images), width=int(state["conv2.conv2d.weight"].shape[0]), layout=layout, edge_width=int(state["conv1.conv2d.weight"].shape[0]))
    net.load_state_dict(state)
    return BaseNet(net=net, styles=[Path(p).stem for p in images], train_config={**config.to_dict(), "steps_done": ckpt.step})


def current_layout(net: LiveNet, layout: int = 0) -> LiveNet:
    """``net`` in the layout the trainer trains: ``layout`` if given, else its own (layout 1 is
    upgraded to :data:`~stylecam.nets.live.DEFAULT_LAYOUT`); never downgraded."""
    target = layout or (net.layout if net.layout in (3, 4) else max(DEFAULT_LAYOUT, net.layout))
    return net if net.layout == target else upgrade_layout(net, target)


def start_from_base(base: BaseNet, *, style_image_mix: list[float] | None = None, layout: int = 0) -> LiveNet:
    """A one-style network with the base's shared weights and, as its starting gamma/beta, the mean
    of the base's styles (or the given mix): the start of a fine-tune."""
    weights = style_image_mix if style_image_mix is not None else [1.0] * base.net.n_styles
    return current_layout(base.net.single_style(weights), layout)


def extend_base(base: BaseNet, styles: list[str], *, layout: int = 0) -> LiveNet:
    """A network of ``len(styles)`` styles with the base's shared weights: the gamma/beta row of a
    style the base knows (by name) is copied, a new style starts from the mean of the base's rows.

    The start of a multi-style training from a base (e.g. retraining the bundled styles, or the
    bundled six plus more).
    """
    src = current_layout(base.net, layout)
    net = LiveNet.like(src, n_styles=len(styles))
    state = {k: v.clone() for k, v in src.state_dict().items()}
    for key in style_parameter_names(src):
        table = state[key]
        state[key] = torch.stack([table[base.styles.index(s)] if s in base.styles else table.mean(0) for s in styles])
    net.load_state_dict(state)
    return net


def freeze_all_but_norms(net: LiveNet) -> list[torch.nn.Parameter]:
    """Make only the gamma/beta tables trainable; return them (for the optimiser)."""
    from stylecam.nets.live import style_parameter_names

    names = set(style_parameter_names(net))
    trainable = []
    for name, p in net.named_parameters():
        p.requires_grad_(name in names)
        if name in names:
            trainable.append(p)
    return trainable


def merge_row(base: BaseNet, name: str, single: LiveNet) -> BaseNet:
    """``base`` with style ``name``'s gamma/beta row replaced by those of ``single``, a one-style
    network fine-tuned from it with ``--tune norms`` (so its shared weights are the base's).

    StylecamError when ``name`` is not one of the base's styles or ``single`` changed shared weights.
    """
    if name not in base.styles:
        raise StylecamError(f"the base has no style {name!r} (it has {', '.join(base.styles)})")
    if single.n_styles != 1:
        raise StylecamError(f"that network has {single.n_styles} styles: give the checkpoint of a one-style fine-tune")
    tuned = current_layout(single).state_dict()
    src = current_layout(base.net, single.layout)
    state = {k: v.clone() for k, v in src.state_dict().items()}
    rows = set(style_parameter_names(src))
    moved = [k for k in state if k not in rows and (state[k].shape != tuned[k].shape or not torch.allclose(state[k], tuned[k], atol=1e-6))]
    if moved:
        raise StylecamError(f"that network is not a gamma/beta fine-tune of this base ({moved[0]} differs)")
    index = base.styles.index(name)
    for key in rows:
        state[key][index] = tuned[key][0]
    net = LiveNet.like(src)
    net.load_state_dict(state)
    return BaseNet(net=net, styles=list(base.styles), train_config=base.train_config)
