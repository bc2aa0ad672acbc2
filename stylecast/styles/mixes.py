"""`-s "starry_night=0.6,the_scream=0.4"`: a mix of paintings, painted by a multi-style network.

A spec with ``=`` or ``,`` names paintings (with weights, 1 where left out); the bundled network that
paints all of them runs with their weights as its second input. ``NETWORK.onnx:MIX`` mixes the
paintings of a network file of one's own (one ``--add-style`` grew, say), and ``NAME:MIX`` those of a
bundled network named so (``paintings_rt:starry_night``). Anything else is a style
name or a model path, as before (``resolve_style``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from stylecast.errors import StylecastError
from stylecast.styles import BundledStyle, bundled_styles, resolve_style


@dataclass(frozen=True)
class StyleSpec:
    """What ``-s`` asks for: a model, and for a multi-style model the mix to feed it (None: its default)."""

    model: Path
    mix: dict[str, float] | None = field(default=None)

    @property
    def label(self) -> str:
        """A short name for output files and messages: the model's, or the mix's paintings."""
        if not self.mix:
            return self.model.stem
        return "+".join(name for name, w in self.mix.items() if w > 0)


FILE_MIX = ".onnx:"  # between a network file and the mix it paints
# ``paintings_rt:starry_night``: a bundled network by name, then its mix (two letters at least, so a
# Windows drive such as C: is not taken for a name)
NAMED_MIX = re.compile(r"^(\w{2,}):(.+)$")


def is_mix(spec: str) -> bool:
    if FILE_MIX in spec.lower():
        return True
    could_be = NAMED_MIX.match(spec) is not None or "=" in spec or "," in spec
    # a model file, whatever its name holds; asked of the disk only then (live asks every frame)
    return could_be and not spec.lower().endswith(".onnx") and not Path(spec).exists()


def parse_weights(spec: str) -> dict[str, float]:
    """``"a=0.6,b=0.4"`` -> {"a": 0.6, "b": 0.4}; ``"a,b"`` -> equal weights. Weights are 0 or more, sum above 0."""
    mix: dict[str, float] = {}
    for part in spec.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip()
        if not name:
            raise StylecastError(f"'{spec}' is not a mix: write it as NAME=WEIGHT,NAME=WEIGHT (e.g. starry_night=0.6,the_scream=0.4)")
        try:
            weight = float(value) if value.strip() else 1.0
        except ValueError:
            raise StylecastError(f"the weight of '{name}' in '{spec}' is not a number: {value!r}") from None
        if not math.isfinite(weight) or weight < 0:
            raise StylecastError(f"the weight of '{name}' in '{spec}' must be a finite number, 0 or more, not {value}")
        if name in mix:
            raise StylecastError(f"'{name}' appears twice in '{spec}'")
        mix[name] = weight
    if sum(mix.values()) <= 0:
        raise StylecastError(f"'{spec}' gives every painting weight 0: at least one must be above 0")
    return mix


def multistyle_networks(among: list[BundledStyle] | None = None) -> list[BundledStyle]:
    """Bundled networks that paint several paintings (their cards list them), cheapest first."""
    styles = bundled_styles() if among is None else among
    found = [s for s in styles if s.card and s.card.styles]
    return sorted(found, key=lambda s: s.card.cost_rank)


def lone_network_note(spec: str) -> str | None:
    """Where ``-s`` names a bundled multi-style network and no painting: which one it paints then, and
    how to pick another (its output is otherwise named after the network, not the painting)."""
    network = next((n for n in multistyle_networks() if n.name == spec), None)
    if network is None:
        return None
    paintings = network.card.styles
    return (f"style: {spec} paints {len(paintings)} paintings and, named alone, the first: {paintings[0]}; "
            f"{spec}:PAINTING picks another ({', '.join(paintings[1:])}), \"{paintings[1]}=0.6,{paintings[-1]}=0.4\" mixes")


def network_for(names: list[str], among: list[BundledStyle] | None = None) -> BundledStyle:
    """The cheapest bundled multi-style network that paints every one of ``names``."""
    networks = multistyle_networks(among)
    for s in networks:
        if all(n in s.card.styles for n in names):
            return s
    known = sorted({n for s in networks for n in s.card.styles})
    missing = [n for n in names if n not in known]
    if not networks:
        raise StylecastError("no bundled multi-style network: a mix of paintings needs one")
    raise StylecastError(f"no bundled network mixes {', '.join(repr(n) for n in missing or names)}: "
                         f"paintings that mix are {', '.join(known)}")


def parse_style(spec: str, folder: Path | None = None) -> StyleSpec:
    """A ``-s`` value -> the model to open and the mix to feed it."""
    if not is_mix(spec):
        return StyleSpec(resolve_style(spec, folder))
    cut = spec.lower().rfind(FILE_MIX)
    if cut >= 0:  # a file's own paintings: the file says which it paints (checked when it opens)
        end = cut + len(".onnx")
        return StyleSpec(resolve_style(spec[:end], folder), parse_weights(spec[end + 1:]))
    if named := NAMED_MIX.match(spec):
        return StyleSpec(resolve_style(named.group(1), folder), parse_weights(named.group(2)))
    mix = parse_weights(spec)
    network = network_for(list(mix), bundled_styles(folder))
    return StyleSpec(network.model, mix)


def painting_row(name: str, among: list[BundledStyle] | None = None) -> str | None:
    """``PAINTING=1`` where a bundled multi-style network paints the painting of style ``name`` (same
    painting: the same source on the card) at less cost than ``name``'s own network; else None."""
    styles = bundled_styles() if among is None else among
    this = next((s for s in styles if s.name == name and s.card and not s.card.styles), None)
    if this is None:
        return None
    by_name = {s.name: s for s in styles}
    for network in multistyle_networks(styles):
        if network.card.cost_rank >= this.card.cost_rank:
            continue
        for painting in network.card.styles:
            full = by_name.get(painting)
            if full is not None and full.card and full.card.style_source == this.card.style_source:
                return f"{painting}=1"
    return None
