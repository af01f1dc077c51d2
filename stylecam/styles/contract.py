"""The names of the style-file contract, shared by export (PyTorch) and the live core (ONNX Runtime only).

Kept apart from :mod:`stylecam.styles.export` so that reading and running styles never imports PyTorch.
"""

INPUT_NAME = "frames"
"""The graph input: uint8, (N, H, W, 3), BGR."""
OUTPUT_NAME = "stylized"
"""The graph output: uint8, same shape and layout as the input."""
FP16_SUFFIX = ".fp16.onnx"
"""File suffix of the half-precision variant of a style (``<name>.fp16.onnx``)."""
