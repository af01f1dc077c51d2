"""The styles shipped with stylecam (ONNX style files); see README.md in this folder."""
