import json

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from stylecast.contract import METADATA_CARD_KEY, METADATA_CONTRACT_KEY, StyleCard  # noqa: E402
from stylecast.errors import StylecastError  # noqa: E402
from stylecast.export.onnx import export_checkpoint, export_onnx, load_onnx_net  # noqa: E402
from stylecast.models.transformer import TransformerNet  # noqa: E402
from stylecast.train.checkpoint import save_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def trained_like_net():
    """Random weights give near-constant images; scale the last conv so outputs use the range."""
    torch.manual_seed(1)
    net = TransformerNet(width=8)
    with torch.no_grad():
        net.decoder[-1].conv.weight.mul_(40)
        net.decoder[-1].conv.bias.fill_(128)
    return net.eval()


@pytest.fixture(scope="module")
def photo_rgb(photo_bgr):
    return cv2.cvtColor(cv2.resize(photo_bgr, (128, 120)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def exported(trained_like_net, photo_rgb, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "mystyle.onnx"
    report = export_onnx(trained_like_net, path, StyleCard(name="mystyle", width=8, style_license="PD"), photo_rgb, fp16=True)
    return report


def test_export_matches_pytorch_and_passes_checker(exported):
    assert exported.max_abs_error < 0.5
    model = onnx.load(str(exported.path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version >= 17
    assert not list(exported.path.parent.glob(".*partial*")), "no temp files left behind"


def test_export_writes_the_faster_exact_form(exported):
    ops = [n.op_type for n in onnx.load(str(exported.path)).graph.node]
    assert "Resize" not in ops and ops.count("ConvTranspose") == 2
    assert "DepthToSpace" in ops, "the RGB layer predicts 2x2 blocks"


def test_dynamic_batch_height_width(exported, trained_like_net):
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 64, 64), (2, 3, 96, 160), (1, 3, 480, 640)]:
        x = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
        y = session.run(None, {"input": x})[0]
        assert y.shape == shape
        assert y.min() >= 0 and y.max() <= 255, "output is clamped to the contract range"
        assert y.std() > 1, "the test net produces a real image, not a constant"


def test_metadata_holds_contract_and_card(exported):
    meta = {p.key: p.value for p in onnx.load(str(exported.path)).metadata_props}
    contract = json.loads(meta[METADATA_CONTRACT_KEY])
    assert contract["size_multiple"] == 4 and contract["layout"] == "NCHW" and contract["value_range"] == [0.0, 255.0]
    assert json.loads(meta[METADATA_CARD_KEY])["name"] == "mystyle"


def test_fp16_copy_is_smaller_and_close(exported):
    assert exported.fp16_path is not None and exported.fp16_path.is_file()
    assert exported.fp16_path.stat().st_size < 0.6 * exported.path.stat().st_size
    assert exported.fp16_max_abs_error < 4.0


def test_opencv_dnn_gives_the_same_image(exported, photo_rgb):
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(photo_rgb.transpose(2, 0, 1)[None]).astype(np.float32)
    want = session.run(None, {"input": x})[0]
    net = cv2.dnn.readNetFromONNX(str(exported.path))
    net.setInput(x)
    got = net.forward()
    assert got.shape == want.shape
    assert np.abs(np.round(got) - np.round(want)).mean() < 1.0


def test_export_checkpoint_writes_verified_model(trained_like_net, tmp_path, painting_path):
    ckpt = tmp_path / "checkpoint.pt"
    save_checkpoint(ckpt, {"config": {"width": 8, "residual_blocks": 5, "style": str(painting_path)},
                           "model": trained_like_net.state_dict(), "step": 3,
                           "card": {"name": "run", "width": 8, "training": {"steps": 3}}})
    report = export_checkpoint(ckpt, tmp_path / "starry.onnx")
    assert report.max_abs_error < 0.5
    meta = {p.key: p.value for p in onnx.load(str(report.path)).metadata_props}
    card = json.loads(meta[METADATA_CARD_KEY])
    assert card["name"] == "starry" and card["training"]["steps"] == 3
    with pytest.raises(StylecastError, match="exists"):
        export_checkpoint(ckpt, tmp_path / "starry.onnx")
    assert export_checkpoint(ckpt, tmp_path / "new" / "folder" / "starry.onnx").path.is_file()  # made, as image/video do
    with pytest.raises(StylecastError, match="not a stylecast checkpoint"):
        bad = tmp_path / "bad.pt"
        torch.save({"foo": 1}, bad)
        export_checkpoint(bad, tmp_path / "x.onnx")


def test_a_file_that_is_no_checkpoint_at_all_is_refused_in_one_line(tmp_path, photo_path, capsys):
    from stylecast.cli import main

    for name, data in (("photo.pt", photo_path.read_bytes()), ("garbage.pt", b"garbage")):
        (tmp_path / name).write_bytes(data)
        code = main(["export", str(tmp_path / name), "-o", str(tmp_path / "x.onnx")])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "is not a stylecast checkpoint" in err and "weights_only" not in err
        assert not (tmp_path / "x.onnx").exists()


def test_a_run_with_input_blur_exports_its_blur(trained_like_net, tmp_path, painting_path, photo_rgb):
    ckpt = tmp_path / "checkpoint.pt"
    save_checkpoint(ckpt, {"config": {"width": 8, "input_blur": 1.0, "style": str(painting_path)},
                           "model": trained_like_net.state_dict(), "step": 3,
                           "card": {"name": "run", "width": 8, "training": {"steps": 3}}})
    report = export_checkpoint(ckpt, tmp_path / "soft.onnx")
    assert report.max_abs_error < 0.5  # parity against the blurring PyTorch net
    x = np.ascontiguousarray(photo_rgb.transpose(2, 0, 1)[None]).astype(np.float32)
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        sharp = trained_like_net(torch.from_numpy(x)).clamp(0, 255).numpy()
    assert np.abs(session.run(None, {"input": x})[0] - sharp).mean() > 1, "the blur is part of the exported graph"


def test_shuffle_design_exports_with_dynamic_size_and_runs_in_openvino(photo_rgb, tmp_path):
    """The CPU real-time design folds pixels into channels; the export must keep that exact at any size."""
    torch.manual_seed(2)
    net = TransformerNet(width=8, design="shuffle").eval()
    with torch.no_grad():
        net.decoder[-2].conv.weight.mul_(40)
        net.decoder[-2].conv.bias.fill_(128)
    card = StyleCard(name="fast", width=8, design="shuffle")
    report = export_onnx(net, tmp_path / "fast.onnx", card, photo_rgb)
    assert report.max_abs_error < 0.5
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 96, 160)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).clamp(0, 255).numpy()
    got = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    assert got.shape == x.shape and np.abs(got - want).max() < 0.5 and want.std() > 1
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend

    pytest.importorskip("openvino")
    backend = OpenVinoBackend(report.path, precision="f32")
    assert backend.card.design == "shuffle"
    assert np.abs(backend.run(x) - want).max() < 0.5


def test_an_exported_style_loads_back_as_the_same_trainable_net(exported, trained_like_net, photo_rgb):
    for path, tolerance in ((exported.path, 0.05), (exported.fp16_path, 0.5)):  # fp16 storage rounds the weights
        net, card = load_onnx_net(path)
        assert card.name == "mystyle" and card.style_license == "PD"
        x = torch.from_numpy(np.ascontiguousarray(photo_rgb.transpose(2, 0, 1)[None])).float()
        with torch.no_grad():
            want = trained_like_net(x)
            assert want.std() > 10
            assert (net(x) - want).abs().max() < tolerance
        assert any(p.requires_grad for p in net.parameters())


def test_a_bundled_style_loads_back_and_paints_as_its_onnx_file(photo_bgr):
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.preprocess import preprocess
    from stylecast.styles import resolve_style

    path = resolve_style("cafe_terrace_rt")  # shuffle design: both rewritten layers and the shuffle ends
    net, card = load_onnx_net(path)
    assert (card.width, card.design) == (8, "shuffle")
    x = preprocess(cv2.resize(photo_bgr, (160, 120)))
    with torch.no_grad():
        got = net(torch.from_numpy(x)).clamp(0, 255).numpy()
    # under half a grey level: the shuffle output layer's four bias copies, corrected one by one when
    # the int8 copy was calibrated, come back as their mean
    assert np.abs(got - OnnxRuntimeBackend(path).run(x)).max() < 0.5


def test_loading_a_model_stylecast_did_not_export_is_a_clear_error(tmp_path):
    bare = onnx.helper.make_model(onnx.helper.make_graph([onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
                                  [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                                  [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]))
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    with pytest.raises(StylecastError, match="no stylecast style card"):
        load_onnx_net(tmp_path / "bare.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(StylecastError, match="cannot load style model"):
        load_onnx_net(tmp_path / "junk.onnx")
    with pytest.raises(StylecastError, match="not found"):
        load_onnx_net(tmp_path / "missing.onnx")
