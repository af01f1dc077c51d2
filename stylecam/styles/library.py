"""The style library: bundled styles plus the user's styles folder, picked up without restart.

A style is one ``<name>.onnx`` file (float32) with an optional ``<name>.fp16.onnx`` sibling
for GPUs. Files that are corrupt, truncated, foreign ONNX models or break the contract are
listed in :attr:`StyleLibrary.problems` with a one-line reason and skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx

from stylecam.errors import StyleFileError
from stylecam.styles.contract import FP16_SUFFIX, INPUT_NAME, OUTPUT_NAME
from stylecam.styles.metadata import StyleInfo

_UINT8 = onnx.TensorProto.UINT8


@dataclass(frozen=True)
class Style:
    """One style: its metadata and the files that implement it."""

    info: StyleInfo
    path: Path | None
    """The float32 file (runs everywhere); None when only an fp16 file exists."""
    fp16_path: Path | None
    location: str
    """``bundled``, ``user`` or ``file``."""

    @property
    def name(self) -> str:
        return self.info.name

    def path_for(self, *, prefer_fp16: bool) -> Path:
        """The file to load: the fp16 variant on GPUs when there is one, else float32."""
        if prefer_fp16 and self.fp16_path is not None:
            return self.fp16_path
        if self.path is not None:
            return self.path
        assert self.fp16_path is not None
        return self.fp16_path


def _check_io(model: onnx.ModelProto, origin: str) -> None:
    def describe(values: Sequence[onnx.ValueInfoProto]) -> list[tuple[str, int, int]]:
        out = []
        for v in values:
            t = v.type.tensor_type
            out.append((v.name, t.elem_type, len(t.shape.dim)))
        return out

    inits = {i.name for i in model.graph.initializer}
    inputs = [v for v in describe(model.graph.input) if v[0] not in inits]
    outputs = describe(model.graph.output)
    if inputs != [(INPUT_NAME, _UINT8, 4)] or outputs != [(OUTPUT_NAME, _UINT8, 4)]:
        raise StyleFileError(
            f"{origin} does not follow the style contract (input 'frames' and output 'stylized', "
            f"uint8 NHWC); it has inputs {[v[0] for v in inputs]} and outputs {[v[0] for v in outputs]}"
        )


def read_style_file(path: str | os.PathLike[str]) -> StyleInfo:
    """Read and check one style file's metadata and interface; StyleFileError with the reason if bad."""
    p = Path(path)
    if not p.is_file():
        raise StyleFileError(f"style file not found: {p}")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError, others for truncation
        raise StyleFileError(f"{p.name} is not a readable ONNX model (corrupt or truncated: {type(exc).__name__})") from None
    if not model.graph.node:
        raise StyleFileError(f"{p.name} is not a readable ONNX model (empty graph: corrupt or truncated)")
    _check_io(model, p.name)
    info = StyleInfo.from_props({e.key: e.value for e in model.metadata_props}, origin=p.name)
    return info


def _style_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".onnx" and p.is_file() and not p.name.startswith("."))
    except OSError:
        return []


class StyleLibrary:
    """Styles found in a list of folders; later folders override earlier ones by name.

    Call :meth:`refresh` (cheap when nothing changed) to pick up files added or removed while
    running; it returns True when the set of styles changed.
    """

    def __init__(self, folders: Iterable[tuple[Path, str]] | None = None) -> None:
        if folders is None:
            from stylecam.paths import bundled_styles_dir, user_styles_dir

            folders = [(bundled_styles_dir(), "bundled"), (user_styles_dir(), "user")]
        self.folders = [(Path(f), loc) for f, loc in folders]
        self._styles: dict[str, Style] = {}
        self.problems: dict[Path, str] = {}
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self.refresh()

    def _current_signature(self) -> tuple[tuple[str, int, int], ...]:
        sig = []
        for folder, _ in self.folders:
            for p in _style_files(folder):
                try:
                    st = p.stat()
                except OSError:
                    continue
                sig.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def refresh(self) -> bool:
        """Rescan the folders if anything in them changed; True if the styles changed."""
        sig = self._current_signature()
        if sig == self._signature:
            return False
        self._signature = sig
        before = {n: (s.path, s.fp16_path) for n, s in self._styles.items()}
        styles: dict[str, Style] = {}
        problems: dict[Path, str] = {}
        for folder, location in self.folders:
            found: dict[str, dict[str, object]] = {}
            for p in _style_files(folder):
                try:
                    info = read_style_file(p)
                except StyleFileError as exc:
                    problems[p] = str(exc)
                    continue
                entry = found.setdefault(info.name, {})
                key = "fp16" if p.name.endswith(FP16_SUFFIX) or info.precision == "fp16" else "fp32"
                entry[key] = p
                if key == "fp32" or "info" not in entry:
                    entry["info"] = info
            for name, entry in found.items():
                styles[name] = Style(
                    info=entry["info"],  # type: ignore[arg-type]
                    path=entry.get("fp32"),  # type: ignore[arg-type]
                    fp16_path=entry.get("fp16"),  # type: ignore[arg-type]
                    location=location,
                )
        self._styles = dict(sorted(styles.items()))
        self.problems = problems
        return before != {n: (s.path, s.fp16_path) for n, s in self._styles.items()}

    @property
    def styles(self) -> list[Style]:
        """All valid styles, sorted by name."""
        return list(self._styles.values())

    def names(self) -> list[str]:
        return list(self._styles)

    def get(self, name_or_path: str | os.PathLike[str]) -> Style:
        """A style by name, or by path to a ``.onnx`` file; StyleFileError if there is none."""
        key = os.fspath(name_or_path)
        if key in self._styles:
            return self._styles[key]
        if key.endswith(".onnx") or os.sep in key or Path(key).is_file():
            p = Path(key)
            info = read_style_file(p)
            is16 = p.name.endswith(FP16_SUFFIX) or info.precision == "fp16"
            return Style(info=info, path=None if is16 else p, fp16_path=p if is16 else None, location="file")
        known = ", ".join(self._styles) or "none installed"
        raise StyleFileError(f"unknown style {key!r} (known: {known})")
