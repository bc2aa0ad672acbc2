"""`-s "a=0.6,b=0.4"`: parsing a mix and finding the network that paints it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stylecast.contract import ModelContract, StyleCard
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.mix import mix_feeds, mix_vector
from stylecast.styles import BundledStyle
from stylecast.styles.mixes import is_mix, network_for, parse_style, parse_weights


def test_weights_parse_with_defaults_of_one():
    assert parse_weights("starry_night=0.6, the_scream=0.4") == {"starry_night": 0.6, "the_scream": 0.4}
    assert parse_weights("a,b") == {"a": 1.0, "b": 1.0}
    assert parse_weights("a=0,b=2") == {"a": 0.0, "b": 2.0}


@pytest.mark.parametrize("spec, message", [("a=-1,b=1", "0 or more"), ("a=0,b=0", "weight 0"), ("a=x", "not a number"),
                                           ("a=1,a=2", "twice"), ("=1", "NAME=WEIGHT"), ("a=nan", "0 or more"), ("a=inf", "finite")])
def test_bad_mixes_are_refused_with_the_reason(spec, message):
    with pytest.raises(StylecastError, match=message):
        parse_weights(spec)


def test_a_mix_is_told_apart_from_names_and_paths():
    assert is_mix("a=1") and is_mix("a,b")
    assert not is_mix("starry_night") and not is_mix("runs/x=1/model.onnx")


def test_a_bundled_network_by_name_takes_a_mix_after_a_colon():
    from stylecast.styles import bundled_styles

    multi = next((s for s in bundled_styles() if s.card and s.card.styles), None)
    if multi is None:
        pytest.skip("no bundled multi-style network")
    painting = multi.card.styles[0]
    spec = parse_style(f"{multi.name}:{painting}")
    assert is_mix(f"{multi.name}:{painting}") and spec.model == multi.model and spec.mix == {painting: 1.0}
    assert not is_mix("C:\\styles\\mine.onnx"), "a Windows drive is not a network name"
    assert not is_mix("my:style.onnx"), "a model file whose name holds a colon"
    with pytest.raises(StylecastError, match="unknown style 'no_such_network'"):
        parse_style(f"no_such_network:{painting}")


def test_a_network_file_of_ones_own_takes_a_mix_after_a_colon(tmp_path):
    model = tmp_path / "grown.onnx"
    model.write_bytes(b"")  # opened later, by the runtime; the spec only has to find it
    spec = parse_style(f"{model}:starry_again=0.6,the_scream")
    assert is_mix(f"{model}:starry_again") and spec.model == model and spec.mix == {"starry_again": 0.6, "the_scream": 1.0}
    assert parse_style(f"{model}:starry_again").mix == {"starry_again": 1.0}
    with pytest.raises(StylecastError, match="not found"):
        parse_style(f"{tmp_path / 'missing.onnx'}:a")
    with pytest.raises(StylecastError, match="NAME=WEIGHT"):
        parse_style(f"{model}:")


def _network(name: str, styles: tuple[str, ...], width: int) -> BundledStyle:
    card = StyleCard(name=name, width=width, design="shuffle", styles=styles)
    return BundledStyle(name, Path(f"/nowhere/{name}.onnx"), card, None)


def test_the_cheapest_network_painting_every_named_painting_is_chosen():
    among = [_network("big", ("a", "b", "c"), 16), _network("small", ("a", "b"), 8),
             BundledStyle("a", Path("/nowhere/a.onnx"), StyleCard(name="a", width=32), None)]
    assert network_for(["a", "b"], among).name == "small"
    assert network_for(["a", "c"], among).name == "big"
    with pytest.raises(StylecastError, match="'d'.*a, b, c"):
        network_for(["a", "d"], among)


def test_the_weights_vector_follows_the_contract_order_and_sums_to_one():
    contract = ModelContract(styles=("a", "b", "c"))
    assert np.allclose(mix_vector(contract, {"c": 3, "a": 1}), [0.25, 0, 0.75])
    assert np.allclose(mix_vector(contract), [1, 0, 0])
    assert list(mix_feeds(contract, {"b": 1})) == ["style_weights"]
    # weights that -s takes but float32 does not hold (inf, or 0) are normalized before the cast
    assert np.allclose(mix_vector(contract, {"a": 1e300, "b": 1}), [1, 0, 0])
    assert np.allclose(mix_vector(contract, {"a": 1e-320}), [1, 0, 0])
    for bad, message in (({"d": 1}, "does not paint 'd'"), ({"a": -1}, "0 or more"), ({"a": 0}, "above 0")):
        with pytest.raises(StylecastError, match=message):
            mix_vector(contract, bad)
    with pytest.raises(StylecastError, match="multi-style"):
        mix_feeds(ModelContract(), {"a": 1})
