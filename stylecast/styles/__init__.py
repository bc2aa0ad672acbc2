"""The trained styles that ship with stylecast: NAME.int8.onnx (the int8 network), NAME.json (card)
and NAME.jpg (style image). They are read from the folder `styles_dir()` unpacks them into, where each
also has its float network NAME.onnx (see ``unpack``)."""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from stylecast.contract import INT8_SUFFIX, StyleCard
from stylecast.errors import StylecastError

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def styles_dir() -> Path:
    """The bundled styles, unpacked: NAME.onnx, NAME.int8.onnx, NAME.json and NAME.jpg for each."""
    from stylecast.styles.unpack import unpacked

    return unpacked(PACKAGE_DIR)


@dataclass(frozen=True)
class BundledStyle:
    name: str
    model: Path
    card: StyleCard | None
    thumbnail: Path | None


def bundled_styles(folder: Path | None = None) -> list[BundledStyle]:
    folder = folder or styles_dir()
    styles = []
    for model in sorted(folder.glob("*.onnx")):
        if model.name.endswith(INT8_SUFFIX):
            continue  # a copy of another style, not a style of its own
        name = model.stem
        card_path, thumb = model.with_suffix(".json"), model.with_suffix(".jpg")
        card = StyleCard.from_json(card_path.read_text()) if card_path.is_file() else None
        styles.append(BundledStyle(name, model, card, thumb if thumb.is_file() else None))
    return styles


# What `image` and `video` paint with when no -s is given: the best-known painting on its full network,
# since offline work can afford the full network's look.
STILL_DEFAULT = "starry_night"


def default_style(folder: Path | None = None) -> Path:
    styles = bundled_styles(folder)
    if not styles:
        raise StylecastError("no bundled styles found: pass a model with --model PATH.onnx")
    return styles[0].model


def lighter_variants(name: str, among: Sequence[BundledStyle] | None = None) -> list[str]:
    """Bundled styles (``among``, read once by a caller that lists them all) of the same painting on
    cheaper networks than ``name``'s, cheapest first."""
    styles = {s.name: s for s in (bundled_styles() if among is None else among) if s.card}
    this = styles.get(name)
    if this is None:
        return []
    return [s.name for s in sorted(styles.values(), key=lambda s: s.card.cost_rank)
            if s.card.style_source == this.card.style_source and s.card.cost_rank < this.card.cost_rank]


def resolve_style(spec: str, folder: Path | None = None) -> Path:
    """A bundled style name or a path to an .onnx file -> the model path."""
    path = Path(spec)
    if path.suffix.lower() == ".onnx" or path.exists():
        if path.is_dir():
            raise StylecastError(f"{path} is a folder, not a style: give a style name or its .onnx file "
                                 f"(see 'stylecast styles')")
        if not path.is_file():
            raise StylecastError(f"style model not found: {path}")
        if path.suffix.lower() != ".onnx":
            raise StylecastError(_not_a_model(path))
        return path
    folder = folder or styles_dir()
    names = [s.name for s in bundled_styles(folder)]
    if spec in names:
        return folder / f"{spec}.onnx"
    close = difflib.get_close_matches(spec, names, n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise StylecastError(f"unknown style '{spec}'.{hint} Bundled styles: {', '.join(names) or 'none'} (see 'stylecast styles')")


def _not_a_model(path: Path) -> str:
    """What to say when -s names a file that is not a style model, most likely the painting itself."""
    if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"):
        return (f"{path} is a picture, not a style: a style is a network trained on a painting (.onnx). "
                f"Train one from it with 'stylecast train --style {path} --data PHOTOS --out runs/NAME', or paint "
                f"a single still with 'stylecast paint PHOTO {path} -o OUT.png'")
    return f"{path} is not a style model: give a bundled style name (see 'stylecast styles') or an .onnx file"
