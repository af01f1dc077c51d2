"""The training loop, top to bottom.

1. Check the inputs (style name, output folder, style image, dataset) before any heavy work.
2. Build the perceptual net (VGG16 up to the deepest loss layer), the style targets (once), the
   style network (seeded) and Adam; on ``resume`` restore all of it from the checkpoint.
3. For each step: a batch of random crops -> ``y = net(x)`` -> content loss (VGG of ``x`` under
   no_grad), style Gram loss, total variation, temporal stability, lattice (a pattern locked to
   the net's pixel grid) -> backward -> Adam.
   Losses are summed on the device and read back only every ``log_every`` steps (no host syncs).
4. Every ``checkpoint_every`` steps, on Ctrl-C and at the end: an atomic checkpoint.
   Every ``preview_every`` steps: a stylized fixed photo in the work dir.
5. At the end: export the style (fp32 + fp16 ONNX with metadata) into the output folder.

Distributed: under ``torchrun`` (env RANK / WORLD_SIZE / LOCAL_RANK) the net is wrapped in DDP
(NCCL on CUDA, Gloo on CPU), every rank reads its own slice of the sample stream, and only rank 0
writes checkpoints, previews and the style files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from stylecam.accel import autocast_dtype
from stylecam.anchor import stride_for
from stylecam.errors import StylecamError
from stylecam.heap import retained_heap
from stylecam.imageio import read_image, write_image
from stylecam.nets import build_net
from stylecam.paths import user_styles_dir
from stylecam.perceptual import VGGFeatures, load_vgg16_weights, make_vgg16_features
from stylecam.perceptual.losses import ContentLoss, StyleLoss, lattice_loss, total_variation
from stylecam.styles import StyleInfo, check_style_name, export_style
from stylecam.nets.live import DEFAULT_LAYOUT, LiveNet, widen_edges
from stylecam.training.base_net import extend_base, freeze_all_but_norms, load_base, save_base, start_from_base
from stylecam.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, restore_rng, save_checkpoint
from stylecam.training.config import RESUME_KEYS, TrainConfig
from stylecam.training.data import PhotoStream, StreamSampler, collate, preview_photo, scan_photos, to_tensor
from stylecam.training.progress import Reporter, SilentReporter
from stylecam.training.stability import draw_shift, stability_loss

# Features of VGG16 with torchvision's input normalisation are ~1/(0.226*255) = 1/57.6 of the Caffe
# ones the default weights were tuned for: MSE of features scales by its square, of Grams by its 4th power.
_TV_FEATURE_RATIO = 57.6
STABILITY_SAMPLES = 2
"""Samples of each batch the temporal stability term uses (it costs a second pass of the style net)."""


class TrainingInterrupted(Exception):
    """Ctrl-C: the checkpoint was saved; ``str()`` is a one-line message that says how to resume."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


@dataclass
class TrainResult:
    files: list[Path]
    net: nn.Module
    step: int
    losses: dict[str, float]
    skipped: list[str] = field(default_factory=list)
    checkpoint: Path | None = None


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def default_work_dir(out_dir: Path, name: str) -> Path:
    return out_dir / ".train" / name


def _init_distributed(device_type: str) -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_initialized():
        return DistInfo(rank, world, local, False)
    dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return DistInfo(rank, world, local, True)


def _pick_device(choice: str, local_rank: int) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise StylecamError("--device cuda was asked for but PyTorch sees no CUDA GPU (use --device cpu)")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def _check_writable(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise StylecamError(f"cannot write to {what} {folder}: {exc.strerror or exc}") from None


def _scaled(image_bgr: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image_bgr.shape[:2]
    s = long_side / max(h, w)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return cv2.resize(image_bgr, (max(32, round(w * s)), max(32, round(h * s))), interpolation=interp)


def style_target_image(image_bgr: np.ndarray, *, long_side: int, detail: int) -> np.ndarray:
    """The painting as the style loss sees it: (h, w, 3) uint8 BGR -> ``long_side`` px on its long side.

    ``detail`` > 1: its finest detail limited to ``detail`` pixels (reduced that many times, area,
    and enlarged back, bilinear), the finest a network that paints at 1/``detail`` of the frame can
    give (the ``live`` network paints at 1/2). Left at full detail, the Gram targets of the first
    VGG layers ask for texture finer than the network's own pixels, and it fakes it with a mesh
    locked to its sub-pixel grid.
    """
    scaled = _scaled(image_bgr, long_side)
    if detail <= 1:
        return scaled
    h, w = scaled.shape[:2]
    low = cv2.resize(scaled, (max(1, round(w / detail)), max(1, round(h / detail))), interpolation=cv2.INTER_AREA)
    return cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)


def reduced(images: torch.Tensor, scale: float) -> torch.Tensor:
    """(N, 3, H, W) pictures reduced by ``scale`` (area, as the live view's picture is reduced for a
    smaller display): ``scale`` 0.5 averages each 2x2 block. A new tensor; at least 32 px a side."""
    h, w = images.shape[-2:]
    return F.interpolate(images, size=(max(32, round(h * scale)), max(32, round(w * scale))), mode="area")


def build_perceptual(
    config: TrainConfig, *, vgg_weights: str | os.PathLike[str] | None, features: nn.Sequential | None
) -> tuple[VGGFeatures, VGGFeatures, float, float, str]:
    """(loss VGG over style+content layers, content-only VGG sharing its convs, content scale, style scale, origin)."""
    if features is not None:
        convention, origin = "caffe", "injected"
    else:
        weights = load_vgg16_weights(vgg_weights)
        features = make_vgg16_features()
        features.load_state_dict(weights.state_dict, strict=False)
        convention, origin = weights.convention, weights.origin
    layers = [*config.style_layers, config.content_layer]
    loss_vgg = VGGFeatures(layers, features=features, convention=convention)
    content_vgg = VGGFeatures([config.content_layer], features=features, convention=convention)
    r = _TV_FEATURE_RATIO if convention == "torchvision" else 1.0
    return loss_vgg, content_vgg, r**2, r**4, origin


@contextlib.contextmanager
def _deferred_sigint() -> Iterator[list[bool]]:
    """First Ctrl-C sets a flag the loop checks between steps (weights are never half-updated);
    a second one interrupts at once. Only possible in the main thread."""
    flag = [False]
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: object) -> None:
        if flag[0]:
            raise KeyboardInterrupt
        flag[0] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def style_indices(step: int, batch: int, rank: int, n_styles: int) -> torch.Tensor:
    """(batch,) long: the style of each sample of ``step`` on ``rank``; consecutive samples cycle through the styles."""
    first = (step * batch + rank * batch) % n_styles
    return (torch.arange(batch) + first) % n_styles


def learning_rate(config: TrainConfig, step: int) -> float:
    """The learning rate of step ``step`` (0-based): constant, or cosine from lr down to lr/10."""
    if config.lr_schedule == "constant":
        return config.lr
    return config.lr * (0.1 + 0.45 * (1.0 + math.cos(math.pi * step / config.iters)))


def _initial_net(config: TrainConfig, n_styles: int) -> nn.Module:
    """The network a run starts from: fresh, or from ``config.base``: its gamma/beta rows for the
    styles it knows by name (the style image's file stem, see :func:`extend_base`: retuning a
    bundled style starts from it), else, for one new style, the mean of its styles."""
    if not config.base:
        if config.arch == "live" and (config.layout or config.edge_width):
            return LiveNet(n_styles, layout=config.layout or DEFAULT_LAYOUT, edge_width=config.edge_width or None)
        return build_net(config.arch, n_styles=n_styles)
    base = load_base(config.base)
    if config.edge_width and config.edge_width != base.net.edge_width:
        try:
            base = dataclasses.replace(base, net=widen_edges(base.net, config.edge_width))
        except ValueError as exc:
            raise StylecamError(f"--edge-width {config.edge_width}: {exc}") from None
    names = [Path(p).stem for p in (config.style, *config.styles)]
    if n_styles == 1 and names[0] not in base.styles:
        return start_from_base(base, layout=config.layout)
    return extend_base(base, names, layout=config.layout)


def _write_preview(net: nn.Module, photo: torch.Tensor, path: Path, n_styles: int) -> None:
    """The fixed preview photo stylized (one panel per style, side by side) as a JPEG."""
    with torch.no_grad():
        if n_styles > 1:
            assert isinstance(net, LiveNet)
            panels = [net(photo, net.style_mix([k])).float().clamp(0, 255)[0] for k in range(n_styles)]
            y = torch.cat(panels, dim=2)
        else:
            y = net(photo).float().clamp(0, 255)[0]
    img = (y + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()[:, :, ::-1]
    write_image(path, np.ascontiguousarray(img))


def train(
    config: TrainConfig,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    vgg_weights: str | os.PathLike[str] | None = None,
    perceptual: nn.Sequential | None = None,
    reporter: Reporter | None = None,
    on_step: Callable[[int], None] | None = None,
    export: bool = True,
) -> TrainResult:
    """Train the style of ``config.style`` on the photos of ``config.dataset`` and export it.

    out_dir: where ``<name>.onnx`` / ``<name>.fp16.onnx`` go (default: the user's styles folder).
    work_dir: checkpoints and previews (default ``<out_dir>/.train/<name>``).
    perceptual: a VGG16-shaped ``features`` module to use instead of loading weights (tests pass
    :func:`stylecam.perceptual.tiny_vgg_features`). on_step(step) is called after every step.
    Raises :class:`StylecamError` for bad inputs and :class:`TrainingInterrupted` on Ctrl-C.
    """
    reporter = reporter or SilentReporter()
    check_style_name(config.name)
    out = Path(out_dir) if out_dir is not None else user_styles_dir()
    work = Path(work_dir) if work_dir is not None else default_work_dir(out, config.name)
    style_bgr = read_image(config.style)
    extra_styles = [read_image(p) for p in config.styles]
    photos, non_images = scan_photos(config.dataset)

    device = _pick_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    dinfo = _init_distributed(device.type)
    try:
        if dinfo.is_main:
            _check_writable(out, "output folder")
            _check_writable(work, "work folder")
            if non_images:
                reporter.warning(f"{non_images} non-image file(s) in {config.dataset} ignored")
        return _run(config, out, work, [style_bgr, *extra_styles], photos, device, dinfo, resume, vgg_weights, perceptual,
                    reporter, on_step, export)  # fmt: skip
    finally:
        reporter.close()
        if dinfo.initialized_here:
            dist.destroy_process_group()


def _run(
    config: TrainConfig,
    out: Path,
    work: Path,
    style_images: list[np.ndarray],
    photos: list[Path],
    device: torch.device,
    dinfo: DistInfo,
    resume: bool,
    vgg_weights: str | os.PathLike[str] | None,
    perceptual: nn.Sequential | None,
    reporter: Reporter,
    on_step: Callable[[int], None] | None,
    export: bool,
) -> TrainResult:
    cuda = device.type == "cuda"
    amp_dtype = autocast_dtype(config.bf16, device)
    if dinfo.world > 1 and device.type == "cpu" and config.bf16 == "auto":
        # The CPU decision is a timing probe: on a busy machine ranks may disagree, and ranks with
        # different dtypes and memory layouts break DDP's parameter sync. bf16 only if all agree.
        agree = torch.tensor([1 if amp_dtype is not None else 0])
        dist.all_reduce(agree, op=dist.ReduceOp.MIN)
        amp_dtype = amp_dtype if int(agree.item()) == 1 else None
    memory_format = torch.channels_last if cuda or amp_dtype is not None else torch.contiguous_format
    n_styles = len(style_images)

    loss_vgg, content_vgg, c_scale, s_scale, vgg_origin = build_perceptual(config, vgg_weights=vgg_weights, features=perceptual)
    loss_vgg.to(device, memory_format=memory_format)
    content_vgg.to(device, memory_format=memory_format)
    content_loss = ContentLoss(config.content_layer, config.content_weight * c_scale)
    # one style loss per scale of config.style_scales, each with the painting at that scale
    style_losses: list[tuple[float, StyleLoss]] = []
    for scale in config.style_scales:
        loss = StyleLoss(config.style_layers, config.style_weight * s_scale)
        long_side = max(32, round(config.style_size * scale))
        with torch.no_grad():
            style_feats = [
                loss_vgg(to_tensor(style_target_image(img, long_side=long_side, detail=config.style_detail)).unsqueeze(0).to(device))
                for img in style_images
            ]
        if n_styles > 1:
            loss.set_style_bank(style_feats)
        else:
            loss.set_targets(style_feats)
        style_losses.append((scale, loss))

    if device.type == "cpu" and config.threads > 0:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed % 2**32)
    net = _initial_net(config, n_styles)
    net = net.to(device, memory_format=memory_format)
    trainable = freeze_all_but_norms(net) if config.tune == "norms" else list(net.parameters())  # type: ignore[arg-type]
    optimizer = torch.optim.Adam(trainable, lr=config.lr)
    start = 0
    skipped: dict[str, str] = {}
    ckpt_path = work / CHECKPOINT_NAME
    if resume:
        ckpt = load_checkpoint(ckpt_path)
        old = ckpt.config.to_dict()
        new = config.to_dict()
        diff = [k for k in RESUME_KEYS if old[k] != new[k]]
        if diff:
            raise StylecamError(
                f"cannot resume: the checkpoint was made with {diff[0]}={old[diff[0]]!r}, this run has {new[diff[0]]!r}"
            )
        try:
            net.load_state_dict(ckpt.net_state)
        except RuntimeError as exc:  # e.g. a checkpoint of an older network layout
            lines = str(exc).splitlines()
            first = lines[1].strip() if len(lines) > 1 else lines[0] if lines else type(exc).__name__
            raise StylecamError(f"cannot resume: the checkpoint's network does not fit this version's ({first})") from None
        optimizer.load_state_dict(ckpt.optimizer_state)
        restore_rng(ckpt.rng)
        start = ckpt.step
        skipped = dict(s.split("\t", 1) if "\t" in s else (s, "unusable") for s in ckpt.skipped)
        if start >= config.iters:
            raise StylecamError(f"the checkpoint is already at step {start} of {config.iters}; raise --iters to train on")
    model: nn.Module = nn.parallel.DistributedDataParallel(net) if dinfo.world > 1 else net

    # On CPUs, oneDNN has fast bf16 kernels for VGG's dense convs but not for the style net's
    # depthwise convs and instance norms (10x slower than fp32 here): the style net stays fp32.
    net_autocast = device.type == "cuda"

    def stylize(images: torch.Tensor, mix: torch.Tensor | None) -> torch.Tensor:
        with torch.autocast(device.type, dtype=amp_dtype, enabled=net_autocast and amp_dtype is not None):
            return model(images) if mix is None else model(images, mix)

    stream = PhotoStream(photos, size=config.size, seed=config.seed, min_side=config.min_image_side)
    sampler = StreamSampler(batch=config.batch, start_step=start, total_steps=config.iters, rank=dinfo.rank, world=dinfo.world)
    loader = DataLoader(
        stream,
        batch_size=config.batch,
        sampler=sampler,
        num_workers=config.workers,
        collate_fn=collate,
        pin_memory=cuda,
        persistent_workers=False,
    )
    preview_t = None
    if dinfo.is_main:
        preview_t = to_tensor(preview_photo(photos, size=config.size * 2, min_side=config.min_image_side)).unsqueeze(0).to(device)

    names = ("content", "style", "tv", "stability", "lattice", "total")
    period = stride_for(config.arch)
    sums = torch.zeros(len(names), device=device)
    count = 0
    last_losses: dict[str, float] = {}
    step = start
    t_last, step_last = time.perf_counter(), start
    reporter.start(start, config.iters)
    files: list[Path] = []

    def checkpoint() -> None:
        if dinfo.is_main:
            save_checkpoint(ckpt_path, config=config, step=step, net=net, optimizer=optimizer,
                            skipped=[f"{k}\t{v}" for k, v in skipped.items()])  # fmt: skip

    # retained_heap: every step allocates the same activations (stylecam.heap)
    with _deferred_sigint() as stop, retained_heap():
        try:
            for x, bad in loader:
                for entry in bad:
                    path, why = entry.split("\t", 1)
                    if path not in skipped:
                        skipped[path] = why
                        if dinfo.is_main:
                            reporter.warning(f"skipped {why} ({len(skipped)} skipped so far)")
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(config, step)
                x = x.to(device, non_blocking=True).contiguous(memory_format=memory_format)
                gen = torch.Generator().manual_seed(config.seed * 1_000_003 + step * 101 + dinfo.rank)
                styles = style_indices(step, config.batch, dinfo.rank, n_styles).to(device) if n_styles > 1 else None
                mix = net.style_mix(styles) if styles is not None else None  # type: ignore[operator]
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    y = stylize(x, mix)
                    with torch.no_grad():
                        target = content_vgg(x)
                    feats = loss_vgg(y)
                    lc = content_loss(feats, target=target)
                    ls = sum(
                        (loss(feats if scale == 1 else loss_vgg(reduced(y, scale)), styles) for scale, loss in style_losses),
                        start=torch.zeros((), device=device),
                    )
                    ltv = config.tv_weight * total_variation(y.float())
                    if config.stability_weight > 0 and config.stability_shift > 0:
                        shift = draw_shift(gen, config.stability_shift)
                        # A second pass of the net on STABILITY_SAMPLES samples is enough signal, and cheap.
                        k = min(STABILITY_SAMPLES, x.shape[0])
                        mix_k = mix[:k] if mix is not None else None
                        lst = config.stability_weight * stability_loss(
                            lambda t: stylize(t, mix_k), x[:k], y[:k], shift=shift, noise_std=config.stability_noise, generator=gen
                        )
                    else:
                        lst = torch.zeros((), device=device)
                    if config.lattice_weight > 0:
                        llat = config.lattice_weight * lattice_loss(y, period=period)
                    else:
                        llat = torch.zeros((), device=device)
                    total = lc + ls + ltv + lst + llat
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                optimizer.step()
                step += 1
                sums += torch.stack([lc.detach(), ls.detach(), ltv.detach(), lst.detach(), llat.detach(), total.detach()]).float()
                count += 1

                if step % config.log_every == 0 or step == config.iters:
                    values = (sums / count).tolist()  # the only host sync of a step
                    if not all(math.isfinite(v) for v in values):
                        raise StylecamError(f"training diverged at step {step} (loss is not finite); lower --lr or the loss weights")
                    last_losses = dict(zip(names, values))
                    now = time.perf_counter()
                    it_s = (step - step_last) / max(now - t_last, 1e-9)
                    t_last, step_last = now, step
                    sums.zero_()
                    count = 0
                    if dinfo.is_main:
                        reporter.progress(step, config.iters, last_losses, it_s, (config.iters - step) / max(it_s, 1e-9))
                if dinfo.is_main and preview_t is not None and (step % config.preview_every == 0 or step == config.iters):
                    path = work / f"preview_{step:06d}.jpg"
                    _write_preview(net, preview_t, path, n_styles)
                    reporter.preview(str(path))
                if step % config.checkpoint_every == 0 and step < config.iters:
                    checkpoint()
                if on_step is not None:
                    on_step(step)
                if stop[0]:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            checkpoint()
            raise TrainingInterrupted(
                f"training interrupted at step {step}/{config.iters}; checkpoint saved in {work}; "
                "run the same command with --resume to continue",
                step,
            ) from None

    checkpoint()
    train_config = {**config.to_dict(), "steps_done": step, "vgg": vgg_origin, "skipped_images": len(skipped)}
    if dinfo.is_main and export and n_styles > 1:
        assert isinstance(net, LiveNet)
        names = [Path(p).stem for p in (config.style, *config.styles)]
        try:
            files = [save_base(out / f"{config.name}.safetensors", net, styles=names, train_config=train_config)]
        except OSError as exc:
            raise StylecamError(f"cannot write the base network to {out}: {exc.strerror or exc}") from None
        reporter.done([str(f) for f in files])
    elif dinfo.is_main and export:
        info = StyleInfo.from_style_image(
            name=config.name,
            style_image_bgr=style_images[0],
            arch=config.arch,
            title=config.title,
            artist=config.artist,
            credit=config.credit,
            train_config=train_config,
        )
        try:
            files = export_style(net, out, info, fp16=True)
        except OSError as exc:
            raise StylecamError(f"cannot write the style to {out}: {exc.strerror or exc}") from None
        reporter.done([str(f) for f in files])
    return TrainResult(files=files, net=net, step=step, losses=last_losses,
                       skipped=[f"{k}\t{v}" for k, v in skipped.items()], checkpoint=ckpt_path if dinfo.is_main else None)  # fmt: skip
