"""Style files: the ONNX contract, its metadata, export, and the library of installed styles.

Reading, listing and running styles needs only ONNX; :func:`export_style` and
:func:`export_onnx_bytes` need PyTorch, which is imported when one of them is first used
(``from stylecam.styles import export_style`` works as usual), so the live path never loads it.
"""

from typing import TYPE_CHECKING, Any

from stylecam.styles.contract import FP16_SUFFIX, INPUT_NAME, OUTPUT_NAME
from stylecam.styles.library import Style, StyleLibrary, read_style_file
from stylecam.styles.metadata import StyleInfo, check_style_name, decode_jpeg, encode_jpeg

if TYPE_CHECKING:
    from stylecam.styles.export import export_onnx_bytes, export_style

_NEED_TORCH = ("export_onnx_bytes", "export_style")


def __getattr__(name: str) -> Any:
    if name in _NEED_TORCH:
        from stylecam.styles import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FP16_SUFFIX",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "Style",
    "StyleInfo",
    "StyleLibrary",
    "check_style_name",
    "decode_jpeg",
    "encode_jpeg",
    "export_onnx_bytes",
    "export_style",
    "read_style_file",
]
