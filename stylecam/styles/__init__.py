"""Style files: the ONNX contract, its metadata, export, and the library of installed styles."""

from stylecam.styles.export import FP16_SUFFIX, INPUT_NAME, OUTPUT_NAME, export_onnx_bytes, export_style
from stylecam.styles.library import Style, StyleLibrary, read_style_file
from stylecam.styles.metadata import StyleInfo, check_style_name, decode_jpeg, encode_jpeg

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
