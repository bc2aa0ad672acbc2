"""Person segmentation: which pixels of a frame show a person, so a painting can spare (or keep
only) them. The networks are MediaPipe's selfie segmentation models, converted to ONNX by
``scripts/convert_selfie_segmentation.py`` (card: ``selfie.json``, licence: ``LICENSE.mediapipe``)."""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CARD = HERE / "selfie.json"

PAINT_CHOICES = ("all", "background", "person")
