"""`train --add-style`: one more painting in a multi-style network, the others untouched bit for bit."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecast.contract import StyleCard  # noqa: E402
from stylecast.errors import StylecastError  # noqa: E402



@pytest.fixture(scope="module")
def network(tmp_path_factory, photo_bgr) -> Path:
    """A two-painting network on cafe_terrace_rt's trained convolutions (rows a and b differ)."""
    from stylecast.export.onnx import export_multistyle_onnx, load_onnx_net
    from stylecast.models.multistyle import MultiStyleNet
    from stylecast.styles import resolve_style

    single, _ = load_onnx_net(resolve_style("cafe_terrace_rt"))
    net = MultiStyleNet(["a", "b"], width=single.width, design=single.design)
    net.adopt(single)
    with torch.no_grad():
        for norm in net.norms:
            norm.shift[1].add_(0.3)
    path = tmp_path_factory.mktemp("net") / "two.onnx"
    export_multistyle_onnx(net, path, StyleCard(name="two", width=8, design="shuffle", styles=("a", "b")),
                           np.ascontiguousarray(photo_bgr[:128, :128, ::-1]))
    return path



def _paint(model: Path, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x, "style_weights": weights.astype(np.float32)})[0]


def test_a_painting_is_added_and_the_old_ones_paint_exactly_as_before(network, photo_folder, painting_path, photo_bgr, tmp_path):
    from stylecast.train.multistyle.add_style import AddStyleConfig, AddStyleTrainer

    config = AddStyleConfig(style=painting_path, network=str(network), data=photo_folder, out=tmp_path / "grown",
                            steps=3, batch=2, size=64, style_size=128, save_every=2, quiet=True)
    trainer = AddStyleTrainer(config)
    assert trainer.name == "starry_night"
    start = [n.scale[-1].detach().clone() for n in trainer.net.norms]
    trainer.run()
    assert any(not torch.equal(a, n.scale[-1]) for a, n in zip(start, trainer.net.norms)), "the new row learned"
    grown = trainer.export()
    x = np.ascontiguousarray(photo_bgr[:96, :128, ::-1].transpose(2, 0, 1)[None]).astype(np.float32)
    for i in range(2):
        assert np.array_equal(_paint(network, np.eye(2)[i], x), _paint(grown, np.eye(3)[i], x)), "old paintings unchanged"
    new = _paint(grown, np.eye(3)[2], x)
    assert np.abs(new - _paint(grown, np.eye(3)[0], x)).mean() > 1, "the new painting is a painting of its own"
    card = StyleCard.from_json((grown.parent / "grown.json").read_text())
    assert card.styles == ("a", "b", "starry_night") and card.training["added"]["starry_night"]["steps"] == 3


def test_a_painting_is_added_to_the_bundled_network_rebuilt_from_its_int8_copy(photo_folder, painting_path, photo_bgr, tmp_path):
    """The package ships paintings_rt as int8; its unpacked float file (fp16 weights behind casts,
    dequantized convolutions under new names) is what --add-style --to paintings_rt grows."""
    from stylecast.styles import resolve_style
    from stylecast.train.multistyle.add_style import AddStyleConfig, AddStyleTrainer

    bundled = resolve_style("paintings_rt")
    config = AddStyleConfig(style=painting_path, network="paintings_rt", data=photo_folder, out=tmp_path / "more",
                            name="starry_again", steps=2, batch=2, size=64, style_size=128, quiet=True)
    trainer = AddStyleTrainer(config)
    trainer.run()
    grown = trainer.export()
    n = len(trainer.net.styles)
    x = np.ascontiguousarray(photo_bgr[:96, :128, ::-1].transpose(2, 0, 1)[None]).astype(np.float32)
    for i in (0, n - 2):
        assert np.array_equal(_paint(bundled, np.eye(n - 1)[i], x), _paint(grown, np.eye(n)[i], x)), "old paintings unchanged"
    assert np.abs(_paint(grown, np.eye(n)[n - 1], x) - _paint(grown, np.eye(n)[0], x)).mean() > 1
    # and a user paints it by name: -s FILE.onnx:PAINTING
    import cv2

    from stylecast.cli import main

    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), photo_bgr[:96, :128])
    outs = {}
    for spec in (f"{grown}:starry_again", str(grown), f"{grown}:cafe_terrace"):
        outs[spec] = tmp_path / f"out{len(outs)}.png"
        assert main(["image", str(photo), "-s", spec, "-o", str(outs[spec]), "--backend", "cpu"]) == 0
    new, first, named_first = (cv2.imread(str(p)).astype(float) for p in outs.values())
    assert np.array_equal(first, named_first) and np.abs(new - first).mean() > 1


def test_adding_resumes_and_refuses_a_name_already_painted(network, photo_folder, painting_path, tmp_path):
    from stylecast.train.multistyle.add_style import AddStyleConfig, AddStyleTrainer

    config = AddStyleConfig(style=painting_path, network=str(network), data=photo_folder, out=tmp_path / "run",
                            steps=2, batch=2, size=64, style_size=128, save_every=1, quiet=True)
    AddStyleTrainer(config).run()
    with pytest.raises(StylecastError, match="--resume"):
        AddStyleTrainer(config)
    again = AddStyleTrainer(AddStyleConfig(**{**config.__dict__, "steps": 3}), resume=True)
    assert again.step == 2
    with pytest.raises(StylecastError, match="already paints 'a'"):
        AddStyleTrainer(AddStyleConfig(**{**config.__dict__, "name": "a", "out": tmp_path / "other"}))


@pytest.mark.parametrize("shape", [(1, 1), (4000, 3)])
def test_a_painting_too_small_for_the_style_loss_is_refused_and_leaves_no_run_folder(shape, network, photo_folder,
                                                                                     tmp_path):
    # a 1x1 or 3-px-wide picture reached VGG's pooling and ended in a PyTorch traceback
    import cv2

    from stylecast.train.multistyle.add_style import AddStyleConfig, AddStyleTrainer

    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.full((*shape, 3), 128, np.uint8))
    config = AddStyleConfig(style=tiny, network=str(network), data=photo_folder, out=tmp_path / "run", steps=1,
                            batch=2, size=64, quiet=True)
    with pytest.raises(StylecastError, match=r"is \d+x\d+: the style loss needs 32 px or more on each side"):
        AddStyleTrainer(config)
    assert not (tmp_path / "run").exists()


def test_a_single_painting_network_is_refused_by_the_name_given(photo_folder, painting_path, tmp_path):
    # a bundled style resolves to a copy unpacked in the cache; the message once named that path
    from stylecast.train.multistyle.add_style import AddStyleConfig, AddStyleTrainer

    config = AddStyleConfig(style=painting_path, network="cafe_terrace_rt", data=photo_folder, out=tmp_path / "run",
                            steps=1, batch=2, size=64, quiet=True)
    with pytest.raises(StylecastError, match=r"^--to cafe_terrace_rt: it paints one painting, not several; .*paintings_rt$"):
        AddStyleTrainer(config)
    assert not (tmp_path / "run").exists()
