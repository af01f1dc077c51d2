"""stylecam: live neural style transfer for webcams.

The public surface is small on purpose; subpackages carry one job each:

- :mod:`stylecam.nets`       the feed-forward style networks (``full`` and ``lite``)
- :mod:`stylecam.styles`     the style-file contract (ONNX + metadata), export and the style library
- :mod:`stylecam.engine`     ONNX Runtime sessions and provider selection
- :mod:`stylecam.video`      frame sources (camera, video file, image folder, image)
- :mod:`stylecam.pipeline`   capture thread -> newest-frame slot -> stylize worker -> sinks
- :mod:`stylecam.sinks`      preview callback, virtual camera, MP4 recorder
- :mod:`stylecam.perceptual` VGG16 features by layer name, perceptual losses
- :mod:`stylecam.snapshot`   Gatys optimisation and DeepDream on a frozen frame
- :mod:`stylecam.ui`         the Qt window (the only package that imports Qt)
- :mod:`stylecam.training`   the trainer (the repository's ``training/`` folder)
- :mod:`stylecam.trained_styles` the bundled styles (the repository's ``trained_styles/`` folder)

Installed, those two are ordinary subpackages; in a source checkout :mod:`stylecam._checkout`
maps them to the repository's folders.
"""

__version__ = "0.1.0"

from pathlib import Path as _Path

from stylecam._checkout import map_checkout_folders as _map_checkout_folders

_map_checkout_folders(_Path(__file__).resolve().parent)
