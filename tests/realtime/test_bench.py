import json

import numpy as np
import pytest

from stylecast.cli import main
from stylecast.errors import StylecastError
from stylecast.realtime import bench
from stylecast.realtime.bench import bench_backends, bench_person, moving_pair, parse_sizes
from tests.realtime.clips import make_clip


def test_table_has_each_backend_and_the_torch_baseline(tiny_model):
    pytest.importorskip("torch")
    timings = bench_backends(tiny_model, ("cuda", "cpu"), [(64, 48)], runs=3, warmup=1)
    names = [t.backend for t in timings]
    assert names == ["cpu", "pytorch-eager"]  # cuda is skipped with a message on this machine
    cpu, torch_row = timings
    assert cpu.size == "64x48" and cpu.median_ms > 0 and cpu.p90_ms >= cpu.median_ms
    assert torch_row.speedup == 1.0 and cpu.speedup == pytest.approx(torch_row.median_ms / cpu.median_ms)
    assert torch_row.baseline and not cpu.baseline  # --json marks which row is the reference


def test_the_whole_mask_path_is_timed_with_its_segmentation(monkeypatch):
    # by what it runs, not by comparing two timings of a few ms (at 32x32 they are within noise)
    from stylecast.segment.segmenter import PersonSegmenter

    seen = {"calls": 0}
    segment = PersonSegmenter.__call__

    def counted(self, frame):
        seen["calls"] += 1
        return segment(self, frame)

    per_timing = []
    time_calls = bench.time_calls

    def recorded(fn, runs, warmup):
        before = seen["calls"]
        result = time_calls(fn, runs, warmup)
        per_timing.append(seen["calls"] - before)
        return result

    monkeypatch.setattr(PersonSegmenter, "__call__", counted)
    monkeypatch.setattr(bench, "time_calls", recorded)
    rows = bench_person([(32, 32)], runs=2)
    assert [r.backend for r in rows] == ["segment-person", "paint-background"]
    alone, whole = per_timing
    assert alone > 0 and whole == alone  # one segmentation per frame painted, as in live


def test_json_output_and_video_mode(tiny_model, tmp_path, capsys):
    assert main(["bench", "--model", str(tiny_model), "--sizes", "32x32", "--backends", "cpu", "--runs", "2",
                 "--no-baseline", "--json"]) == 0
    document = strict_json(capsys.readouterr().out)
    assert document["machine"]["cores"] >= 1 and "isa" in document["machine"]
    rows = document["timings"]
    assert rows[0]["backend"] == "cpu" and rows[0]["size"] == "32x32"
    # the per-frame costs of --smooth and of --paint background are part of the table, so they can be
    # checked against the frame budget
    extras = {r["backend"]: r for r in rows[1:]}
    assert set(extras) == {"smooth-ema", "smooth-flow", "segment-person", "paint-background"}
    assert all(r["size"] == "32x32" and r["median_ms"] > 0 for r in extras.values())
    clip = make_clip(tmp_path / "c.mkv", frames=8, audio=None)
    assert main(["bench", "video", str(clip), "--model", str(tiny_model), "--backend", "cpu", "--json"]) == 0
    report = strict_json(capsys.readouterr().out)
    assert report["frames"] == 8 and report["fps"] > 0
    assert {"decode_s", "infer_s", "encode_s"} <= set(report)


def strict_json(text: str):
    """The whole of stdout as one JSON document, refusing NaN/Infinity as strict parsers (jq) do."""
    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_bench_json_is_strict_and_alone_on_stdout(tmp_path, capsys):
    """A style's own file against itself gives PSNR inf: null in JSON; skipped backends go to stderr."""
    from stylecast.styles import resolve_style

    assert main(["bench", "--model", str(resolve_style("cafe_terrace_rt")), "--sizes", "32x32", "--backends", "cpu,cuda",
                 "--runs", "1", "--no-baseline", "--no-smoothing", "--json"]) == 0
    out, err = capsys.readouterr()
    document = strict_json(out)
    assert document["timings"][0]["psnr_db"] is None
    assert "skipping cuda" in err and "skipping" not in out


def test_a_size_that_would_exhaust_memory_is_skipped_with_a_line_not_killed(tiny_model, monkeypatch, capsys):
    """--sizes 16000x1300 on a 24 GB machine was killed by the kernel (the whole table lost): a size
    beyond free memory is now left out, each runtime says so once, and the other sizes are timed."""
    from stylecast.realtime import bench

    fits, huge = (64, 48), (4096, 4096)
    from stylecast.realtime.runtimes.protocol import FULL_WIDTH, OTHER_FRAME_BYTES_PER_PIXEL

    need = huge[0] * huge[1] * OTHER_FRAME_BYTES_PER_PIXEL * 8 / FULL_WIDTH  # tiny_model is width 8
    monkeypatch.setattr(bench, "available_memory", lambda: int(need / 2))
    rows = bench_backends(tiny_model, ("cpu",), [huge, fits], runs=2, warmup=0)
    assert {(r.backend, r.size) for r in rows} == {("cpu", "64x48"), ("pytorch-eager", "64x48")}
    err = capsys.readouterr().err
    assert err.count("skipping 4096x4096") == 2 and "GB for a frame that size" in err  # onnxruntime, the baseline
    assert bench.too_big(huge, 8, int(need * 2)) is None and bench.too_big(huge, 8, None) is None
    assert bench.too_big(huge, 8, int(need / 2), "openvino") is None, "OpenVINO needs a fraction of it"


def test_a_bench_where_no_backend_asked_for_runs_is_an_error_not_an_empty_table(tiny_model, capsys, monkeypatch):
    def not_here(model, name, every=False):
        raise StylecastError(f"{name} is not installed here")

    monkeypatch.setattr(bench, "_open_for_bench", not_here)  # as CUDA on a machine without it
    assert main(["bench", "--model", str(tiny_model), "--sizes", "32x32", "--backends", "cuda,openvino:bf16",
                 "--runs", "1", "--no-smoothing", "--no-person"]) == 2
    err = capsys.readouterr().err
    assert "skipping cuda: cuda is not installed here" in err
    assert "none of --backends cuda,openvino:bf16 could be timed" in err


def test_a_backend_name_with_a_typo_is_refused_before_any_timing(tiny_model, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--model", str(tiny_model), "--backends", "cpu,openvino:int9"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "unknown backend 'openvino:int9'" in err and "timing" not in err


def test_bad_sizes():
    assert parse_sizes("640x480,32x16") == [(640, 480), (32, 16)]
    with pytest.raises(StylecastError, match="WIDTHxHEIGHT"):
        parse_sizes("640by480")


def test_moving_pair_is_a_pan_of_the_picture():
    photo = np.random.default_rng(1).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    a, b = moving_pair(64, 48, photo, shift=(3, 2))
    assert a.shape == b.shape == (48, 64, 3)
    assert np.array_equal(a[2:, 3:], b[:-2, :-3]) and not np.array_equal(a, b)


def test_live_loop_bench_reports_fps_and_latency(tiny_model, tmp_path, capsys):
    pytest.importorskip("av")
    clip = make_clip(tmp_path / "c.mkv", frames=10, size=(96, 64), audio=None)
    assert main(["bench", "live", str(clip), "--model", str(tiny_model), "--backend", "cpu", "--seconds", "1.5",
                 "--size", "96x64", "--fps", "20", "--json"]) == 0
    report = strict_json(capsys.readouterr().out)
    # a looping 20 fps source for 1.5 s: the tiny model keeps up, so most frames get through
    assert 10 <= report["frames"] <= 32 and report["fps"] > 6
    assert 0 < report["latency_median_ms"] <= report["latency_p90_ms"] < 1000


def test_gpu_rows_are_compared_with_pytorch_on_the_same_gpu(monkeypatch):
    """A CUDA backend is measured against PyTorch on CUDA, a CPU backend against PyTorch on the CPU."""
    torch = pytest.importorskip("torch")
    from stylecast.realtime import bench

    if not torch.cuda.is_available():
        assert bench.torch_baseline(8, (32, 32), 1, 0, device="cuda") is None  # no GPU: no fake baseline
    seen = []

    def fake_baseline(width, size, runs, warmup, design="johnson", device="cpu", bottleneck=0):
        seen.append(device)
        return 10.0, 11.0

    monkeypatch.setattr(bench, "torch_baseline", fake_baseline)

    class FakeBackend:
        def __init__(self, name):
            self.name, self.card, self.precision, self.takes_frames = name, None, "fp16", False
            from stylecast.contract import DEFAULT_CONTRACT
            self.contract = DEFAULT_CONTRACT

        def run(self, x):
            return x

    monkeypatch.setattr(bench, "open_backend", lambda model, names, named=None: type("C", (), {"backend": FakeBackend(names[0])})())
    monkeypatch.setattr(bench, "style_picture", lambda model: None)
    rows = bench.bench_backends("m.onnx", ["cuda", "cpu"], [(32, 32)], runs=2, warmup=0)
    assert sorted(seen) == ["cpu", "cuda"]
    labels = {r.backend for r in rows}
    assert {"cuda", "cpu", "pytorch-eager", "pytorch-cuda"} <= labels
    assert all(r.speedup is not None for r in rows)


def test_the_pytorch_baseline_is_the_same_network_as_the_style(monkeypatch, tmp_path, photo_bgr):
    """A distilled bottleneck style is timed against PyTorch running that bottleneck net, not Johnson's."""
    pytest.importorskip("torch")
    import cv2

    from stylecast.contract import StyleCard
    from stylecast.export.onnx import export_onnx
    from stylecast.models.transformer import TransformerNet
    from stylecast.realtime import bench

    path = tmp_path / "lite.onnx"
    rgb = cv2.cvtColor(cv2.resize(photo_bgr, (64, 64)), cv2.COLOR_BGR2RGB)
    export_onnx(TransformerNet(width=8, bottleneck=8).eval(), path, StyleCard(name="lite", width=8, bottleneck=8), rgb)
    built = []
    real = bench.torch_baseline
    monkeypatch.setattr(bench, "torch_baseline", lambda *a, **k: built.append(a) or real(*a, **k))
    rows = bench.bench_backends(path, ["cpu"], [(64, 48)], runs=2, warmup=0)
    assert built and built[0][-1] == 8
    assert {r.backend for r in rows} == {"cpu", "pytorch-eager"} and all(r.speedup for r in rows)


def test_torch_is_timed_by_name_and_left_out_of_the_default_list_without_a_gpu(tiny_model, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    import stylecast.realtime.runtimes.backends as backends
    from stylecast.realtime import bench

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(backends, "_torch_may_see_a_gpu", lambda: True)
    rows = bench_backends(tiny_model, ("torch",), [(64, 48)], runs=2, warmup=1, baseline=False)
    assert [(r.backend, r.precision) for r in rows] == [("torch-cpu", "fp32")]
    assert rows[0].psnr_db is None or rows[0].psnr_db > 50  # the same network as the file
    rows = bench_backends(tiny_model, bench.EVERY_BACKEND, [(64, 48)], runs=2, warmup=1, baseline=False)
    assert "torch-cpu" not in {r.backend for r in rows} and "cpu" in {r.backend for r in rows}
    assert "skipping torch: torch backend skipped: torch sees no CUDA GPU" in capsys.readouterr().err


def test_torch_compile_is_timed_beside_eager_torch(tiny_model, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    rows = bench_backends(tiny_model, ("torch", "torch:compile"), [(64, 48)], runs=2, warmup=1)
    assert [(r.backend, r.precision) for r in rows] == [("torch-cpu", "fp32"), ("torch-cpu-inductor", "fp32"),
                                                        ("pytorch-eager", "fp32")]
    assert all(r.speedup for r in rows)  # both compared with the CPU baseline
    assert rows[1].psnr_db is None or rows[1].psnr_db > 50
    rows = bench_backends(tiny_model, ("cpu", "torch:fast"), [(64, 48)], runs=1, warmup=0, baseline=False)
    assert [r.backend for r in rows] == ["cpu"]
    assert "skipping torch:fast: only openvino takes a precision" in capsys.readouterr().err


def test_bench_styles_times_each_style_as_live_runs_it_fastest_first(tiny_model, monkeypatch, capsys):
    """Real bundled styles at a small size: each row names the style, its network (from its card)
    and the backend it ran on; rows come fastest first and 'keeps up' follows from the time."""
    from stylecast import styles

    shipped = {s.name: s for s in styles.bundled_styles()}
    if not {"cafe_terrace_rt", "starry_night_lite_rt"} <= set(shipped):
        pytest.skip("the bundled real-time styles are missing")
    # cafe_terrace_rt twice, by name and by path: timed once
    assert main(["bench", "styles", "-s", "starry_night_lite_rt", "-s", "cafe_terrace_rt", "-s", str(tiny_model),
                 "-s", str(shipped["cafe_terrace_rt"].model), "--size", "96x64", "--runs", "2", "--backend", "cpu", "--fps", "1000", "--json"]) == 0
    rows = strict_json(capsys.readouterr().out)["styles"]
    assert sorted(r["style"] for r in rows) == sorted(["starry_night_lite_rt", "cafe_terrace_rt", tiny_model.stem])
    assert [r["median_ms"] for r in rows] == sorted(r["median_ms"] for r in rows)
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend

    for r in rows:
        card = shipped[r["style"]].card if r["style"] in shipped else OnnxRuntimeBackend(tiny_model).card
        assert r["network"] == card.network
        assert r["backend"] == "cpu fp32" and r["size"] == "96x64"
        assert r["fps"] == pytest.approx(1000 / r["median_ms"]) and r["p90_ms"] >= r["median_ms"]
        assert r["keeps_up"] == (r["median_ms"] <= 1.0)

    # no -s: every bundled style (here two of them, to keep the test short), as a table
    monkeypatch.setattr(styles, "bundled_styles", lambda *folder: [shipped["cafe_terrace_rt"], shipped["starry_night_lite_rt"]])
    assert main(["bench", "styles", "--size", "64x48", "--runs", "2", "--backend", "cpu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("cpu: ") and "cores" in out[0]
    out = out[1:]
    assert "64x48" in out[0] and out[1].split()[:2] == ["style", "network"] and out[1].endswith("30 fps?")
    assert sorted(line.split()[0] for line in out[2:]) == ["cafe_terrace_rt", "starry_night_lite_rt"]

    assert main(["bench", "styles", "-s", "cafe_terrace_rt", "--size", "0x48"]) == 2
    assert "above 0" in capsys.readouterr().err
