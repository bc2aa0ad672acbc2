"""`stylecast video`: same length, rate, size and sound; clean failures; nothing half-written."""
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("av")

from stylecast.cli import main  # noqa: E402
from stylecast.errors import StylecastError  # noqa: E402
from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend  # noqa: E402
from stylecast.realtime.config import RunConfig  # noqa: E402
from stylecast.realtime.hd.painter import WorkingSizePainter  # noqa: E402
from stylecast.realtime.runtimes.stylizer import Stylizer  # noqa: E402
from stylecast.realtime.video import VideoConfig, check_frame_size, frames_in_flight, stylize_video  # noqa: E402
from tests.conftest import OPENCV_DATA  # noqa: E402
from tests.realtime.clips import decoded_audio, decoded_frames, make_clip, video_facts  # noqa: E402


@pytest.fixture(scope="module")
def stylize(tiny_model):
    return WorkingSizePainter(Stylizer(OnnxRuntimeBackend(tiny_model)), 640)


def _config(tiny_model, **kw) -> VideoConfig:
    run_kw = {k: kw.pop(k) for k in ("max_side", "overwrite") if k in kw}
    return VideoConfig(run=RunConfig(style=str(tiny_model), backend="cpu", **run_kw), **kw)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if "partial" in p.name]


def test_keeps_frames_rate_size_and_remuxes_audio(tmp_path, stylize, tiny_model):
    src = make_clip(tmp_path / "in.mkv", frames=30, size=(96, 64), fps=15, audio="aac")
    result = stylize_video(src, tmp_path / "out.mp4", stylize, 8, _config(tiny_model))
    before, after = video_facts(src), video_facts(result.output)
    assert after["frames"] == before["frames"] == result.frames == 30
    assert after["size"] == (96, 64)
    assert float(after["rate"]) == pytest.approx(15, rel=1e-3)
    np.testing.assert_allclose(after["seconds"], before["seconds"], atol=1e-3)
    assert after["audio"] == ["aac"] and result.audio_transcoded == ()
    np.testing.assert_array_equal(decoded_audio(result.output), decoded_audio(src))  # copied untouched
    assert not _leftovers(tmp_path)


def test_mp3_in_mp4_is_copied_not_reencoded(tmp_path, stylize, tiny_model):
    """MP4 holds MP3 as it is; the decoder's name (mp3float) once made it look foreign."""
    src = make_clip(tmp_path / "in.mp4", frames=12, audio="mp3")
    result = stylize_video(src, tmp_path / "out.mp4", stylize, 8, _config(tiny_model))
    assert result.audio_transcoded == () and video_facts(result.output)["audio"] == video_facts(src)["audio"]
    np.testing.assert_array_equal(decoded_audio(result.output), decoded_audio(src))


def test_variable_frame_rate_timestamps_survive(tmp_path, stylize, tiny_model):
    tb = Fraction(1, 1000)
    pts = [0, 40, 120, 130, 250, 260, 270, 400, 410, 600]
    src = make_clip(tmp_path / "vfr.mkv", frames=len(pts), pts=pts, time_base=tb, audio=None)
    out = stylize_video(src, tmp_path / "vfr.mp4", stylize, 8, _config(tiny_model)).output
    np.testing.assert_allclose(video_facts(out)["seconds"], [p / 1000 for p in pts], atol=2e-3)


def test_audio_the_container_refuses_is_reencoded(tmp_path, stylize, tiny_model):
    src = make_clip(tmp_path / "pcm.mkv", frames=24, audio="pcm_s16le")
    result = stylize_video(src, tmp_path / "out.mp4", stylize, 8, _config(tiny_model))
    assert result.audio_transcoded == ("pcm_s16le",)
    a, b = decoded_audio(src), decoded_audio(result.output)
    assert b.shape[0] == 2 and abs(b.shape[1] - a.shape[1]) < 4096  # same length within an AAC frame
    n = min(a.shape[1], b.shape[1]) - 4096
    lag = 1024  # AAC priming delay
    corr = np.corrcoef(a[0, 2048:n], b[0, 2048 + lag:n + lag])[0, 1]
    assert corr > 0.9 or np.corrcoef(a[0, 2048:n], b[0, 2048:n])[0, 1] > 0.9


def test_webm_uses_vp9_and_opus(tmp_path, stylize, tiny_model):
    src = make_clip(tmp_path / "in.mkv", frames=12, audio="aac")
    out = stylize_video(src, tmp_path / "out.webm", stylize, 8, _config(tiny_model)).output
    facts = video_facts(out)
    assert facts["frames"] == 12 and facts["audio"] == ["opus"]


def test_odd_sizes_and_max_side(tmp_path, stylize, tiny_model):
    src = make_clip(tmp_path / "odd.mkv", frames=6, size=(97, 61), audio=None, codec="ffv1")
    assert video_facts(stylize_video(src, tmp_path / "odd.mp4", stylize, 8, _config(tiny_model)).output)["size"] == (97, 61)
    small = stylize_video(src, tmp_path / "small.mp4", stylize, 8, _config(tiny_model, max_side=48)).output
    assert video_facts(small)["size"] == (48, 30)


def test_ctrl_c_leaves_no_file_unless_asked(tmp_path, tiny_model, monkeypatch, photo_bgr):
    src = make_clip(tmp_path / "in.mkv", frames=40, audio="aac")
    calls = {"n": 0}

    class Interrupting:
        def __call__(self, image):
            calls["n"] += 1
            if calls["n"] == 10:
                raise KeyboardInterrupt
            return image

    with pytest.raises(KeyboardInterrupt):
        stylize_video(src, tmp_path / "out.mp4", WorkingSizePainter(Interrupting(), 640), 8, _config(tiny_model))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv"]
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        stylize_video(src, tmp_path / "out.mp4", WorkingSizePainter(Interrupting(), 640), 8, _config(tiny_model, keep_partial=True))
    assert (tmp_path / "out.partial.mp4").is_file() and not (tmp_path / "out.mp4").exists()


def test_huge_frames_are_refused_by_the_memory_their_working_size_needs(monkeypatch):
    import stylecast.machine

    def paint(long_side):
        return WorkingSizePainter(lambda image: image, long_side)

    monkeypatch.setattr(stylecast.machine, "available_memory", lambda: 8 * 10**9)
    # painted at 640 px and brought back (the default): an 8K or 5K frame fits in 8 GB (a 5K clip
    # was refused as needing 5.7 GB a frame, and painted in 1.9 GB)
    check_frame_size(Path("8k.mp4"), (7680, 4320), 32, paint(640), workers=2)
    check_frame_size(Path("5k.mp4"), (5120, 2880), 32, paint(640), workers=2)
    # painted at nearly its own size (--stroke-scale 0.1), the network needs far more
    with pytest.raises(StylecastError, match=r"painted at 6400x3600\) needs about \d+ GB of memory, 8 GB is free.*--max-side"):
        check_frame_size(Path("8k.mp4"), (7680, 4320), 32, paint(6400))
    monkeypatch.setattr(stylecast.machine, "available_memory", lambda: 2 * 10**9)
    with pytest.raises(StylecastError, match=r"needs about 4 GB of memory, 2 GB is free"):
        check_frame_size(Path("8k.mp4"), (7680, 4320), 32, paint(640))
    check_frame_size(Path("hd.mp4"), (1920, 1080), 32, paint(640), workers=2)
    with pytest.raises(StylecastError, match=r"beyond 8K UHD.*--max-side"):
        check_frame_size(Path("big.mp4"), (8192, 4608), 32, paint(640))


def _cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", ["missing", "not_video", "audio_only", "exists", "bad_suffix", "truncated_header"])
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys, tiny_model):
    out = tmp_path / "out.mp4"
    src = tmp_path / "in.mkv"
    if case == "missing":
        src = tmp_path / "nope.mp4"
    elif case == "not_video":
        src = tmp_path / "notes.mp4"
        src.write_text("hello, not a video")
    elif case == "audio_only":
        import av

        with av.open(str(src), "w") as c:
            s = c.add_stream("pcm_s16le", rate=8000)
            f = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
            f.sample_rate = 8000
            c.mux(s.encode(f))
            c.mux(s.encode(None))
    elif case == "exists":
        make_clip(src, frames=4, audio=None)
        out.write_bytes(b"precious")
    elif case == "bad_suffix":
        make_clip(src, frames=4, audio=None)
        out = tmp_path / "out.gif"
    elif case == "truncated_header":
        make_clip(src, frames=4, audio=None)
        src.write_bytes(src.read_bytes()[:60])
    code, err = _cli(capsys, "video", src, "-s", tiny_model, "-o", out, "--backend", "cpu", "--quiet")
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.startswith("stylecast:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert not _leftovers(tmp_path)
    if case == "exists":
        assert out.read_bytes() == b"precious" and "--overwrite" in err


def test_damaged_middle_keeps_going(tmp_path, capsys, tiny_model):
    src = make_clip(tmp_path / "in.mkv", frames=48, audio=None, codec="mpeg4")
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(0)
    for at in rng.integers(len(data) // 3, 2 * len(data) // 3, 40):
        data[at] ^= 0xFF
    src.write_bytes(bytes(data))
    code, err = _cli(capsys, "video", src, "-s", tiny_model, "-o", tmp_path / "out.mp4", "--backend", "cpu", "--quiet")
    assert code in (0, 2) and "Traceback" not in err
    if code == 0:
        assert video_facts(tmp_path / "out.mp4")["frames"] > 0
    else:
        assert not (tmp_path / "out.mp4").exists()
    assert not _leftovers(tmp_path)


def test_folder_of_videos(tmp_path, capsys, tiny_model):
    (tmp_path / "clips").mkdir()
    make_clip(tmp_path / "clips" / "a.mkv", frames=4, audio=None)
    make_clip(tmp_path / "clips" / "b.mp4", frames=5, audio=None)
    (tmp_path / "clips" / "readme.txt").write_text("not a video")
    code, err = _cli(capsys, "video", tmp_path / "clips", "-s", tiny_model, "-o", tmp_path / "out", "--backend", "cpu", "--quiet")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-tiny.mp4", "b-tiny.mp4"]
    assert video_facts(tmp_path / "out" / "b-tiny.mp4")["frames"] == 5


def test_skip_existing_paints_only_the_videos_not_painted_yet(tmp_path, capsys, tiny_model):
    (tmp_path / "clips").mkdir()
    make_clip(tmp_path / "clips" / "a.mkv", frames=4, audio=None)
    make_clip(tmp_path / "clips" / "b.mp4", frames=5, audio=None)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a-tiny.mp4").write_bytes(b"finished before an interruption")
    args = ["video", tmp_path / "clips", "-s", tiny_model, "-o", tmp_path / "out", "--backend", "cpu", "--quiet"]
    code, err = _cli(capsys, *args)
    assert code == 2 and "--skip-existing" in err
    code, err = _cli(capsys, *args, "--skip-existing")
    assert code == 0, err
    assert (tmp_path / "out" / "a-tiny.mp4").read_bytes() == b"finished before an interruption"
    assert video_facts(tmp_path / "out" / "b-tiny.mp4")["frames"] == 5
    code, err = _cli(capsys, *args, "--skip-existing")
    assert code == 0 and "nothing to paint" in err


MEGAMIND = OPENCV_DATA / "Megamind.avi"


@pytest.mark.skipif(not MEGAMIND.exists(), reason="apt-get install opencv-doc for Megamind.avi")
def test_megamind_frames_rate_size_and_audio_samples(tmp_path, tiny_model):
    small = WorkingSizePainter(Stylizer(OnnxRuntimeBackend(tiny_model)), 160)  # 720x528 painted at 160 px: 5x quicker
    result = stylize_video(MEGAMIND, tmp_path / "mm.mp4", small, 8, _config(tiny_model))
    before, after = video_facts(MEGAMIND), video_facts(result.output)
    assert after["frames"] == before["frames"] == 270
    assert after["size"] == before["size"] == (720, 528)
    assert after["rate"] == before["rate"] == Fraction(2997, 125)
    # AVI labels frames by decode time; the output carries the true, increasing display times
    np.testing.assert_allclose(after["seconds"], sorted(before["seconds"]), atol=2e-3)
    np.testing.assert_array_equal(decoded_audio(result.output), decoded_audio(MEGAMIND))


@pytest.mark.skipif(not (OPENCV_DATA / "Megamind_bugy.avi").exists(), reason="apt-get install opencv-doc")
def test_megamind_bugy_plays_or_fails_cleanly(tmp_path, capsys, tiny_model):
    out = tmp_path / "bugy.mp4"
    code, err = _cli(capsys, "video", OPENCV_DATA / "Megamind_bugy.avi", "-s", tiny_model, "-o", out,
                     "--backend", "cpu", "--quiet", "--max-side", "240")
    assert "Traceback" not in err
    if code == 0:
        assert video_facts(out)["frames"] > 0
    else:
        assert code == 2 and not out.exists()
    assert not _leftovers(tmp_path)


def test_phone_rotation_metadata_is_kept(tmp_path, stylize, tiny_model):
    src = make_clip(tmp_path / "phone.mp4", frames=6, audio=None, rotation=90)
    assert video_facts(src)["rotation"] == 90
    out = stylize_video(src, tmp_path / "out.mp4", stylize, 8, _config(tiny_model)).output
    facts = video_facts(out)
    assert facts["rotation"] == 90 and facts["size"] == (96, 64)  # pixels stay as stored, players rotate


def test_pixel_aspect_ratio_is_kept(tmp_path, stylize, tiny_model):
    import av

    src = tmp_path / "anamorphic.mkv"
    with av.open(str(src), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.sample_aspect_ratio = Fraction(4, 3)
        for i in range(4):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format="bgr24")
            f.pts, f.time_base = i, Fraction(1, 10)
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    assert video_facts(src)["sar"] == Fraction(4, 3)
    out = stylize_video(src, tmp_path / "out.mp4", stylize, 8, _config(tiny_model)).output
    assert video_facts(out)["sar"] == Fraction(4, 3)


def _clip_with_subtitles(tmp_path: Path) -> Path:
    import av

    srt_path = tmp_path / "s.srt"
    srt_path.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello painted world\n\n2\n00:00:01,000 --> 00:00:01,800\nSecond line\n")
    src = make_clip(tmp_path / "plain.mkv", frames=20, fps=10, audio="aac")
    out_path = tmp_path / "subs.mkv"
    with av.open(str(src)) as plain, av.open(str(srt_path)) as srt, av.open(str(out_path), "w") as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in plain.streams}
        sub = out.add_stream_from_template(srt.streams.subtitles[0])
        for packet in plain.demux():
            if packet.size:
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
        for packet in srt.demux():
            if packet.size:
                packet.stream = sub
                out.mux(packet)
    return out_path


def _subtitle_texts(path: Path) -> list[bytes]:
    import av

    with av.open(str(path)) as c:
        if not c.streams.subtitles:
            return []
        return [bytes(p) for p in c.demux(subtitles=0) if p.size]


def test_subtitles_are_kept_where_the_container_can_hold_them(tmp_path, stylize, tiny_model):
    src = _clip_with_subtitles(tmp_path)
    assert _subtitle_texts(src) == [b"Hello painted world", b"Second line"]
    kept = stylize_video(src, tmp_path / "out.mkv", stylize, 8, _config(tiny_model))
    assert _subtitle_texts(kept.output) == [b"Hello painted world", b"Second line"]
    np.testing.assert_array_equal(decoded_audio(kept.output), decoded_audio(src))
    dropped = stylize_video(src, tmp_path / "out.mp4", stylize, 8, _config(tiny_model))
    assert dropped.subtitles_dropped == ("srt",) and _subtitle_texts(dropped.output) == []
    assert video_facts(dropped.output)["frames"] == 20


def test_crf_zero_keeps_every_pixel_and_colour(tmp_path, photo_bgr):
    """Lossless means the stylized frames come back as written (colour too, so 4:4:4, not 4:2:0):
    what eval-temporal needs to score a network rather than the encoder."""
    import av

    from stylecast.realtime.media.sinks import VideoFileSink
    from stylecast.realtime.media.sources import Frame, VideoInfo

    frames = [np.ascontiguousarray(cv2.resize(photo_bgr, (96, 64))[:, ::-1] if i % 2 else cv2.resize(photo_bgr, (96, 64)))
              for i in range(4)]
    info = VideoInfo(width=96, height=64, fps=Fraction(25), time_base=Fraction(1, 25), frames=4)
    worst = {}
    for crf in (0, 18):
        path = tmp_path / f"crf{crf}.mkv"
        with VideoFileSink(path, info=info, crf=crf) as sink:
            for i, image in enumerate(frames):
                sink.write(Frame(image, i))
        with av.open(str(path)) as container:
            back = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
        assert len(back) == len(frames)
        worst[crf] = max(np.abs(a.astype(int) - b).max() for a, b in zip(frames, back))
    assert worst[0] <= 3, "only RGB <-> YUV rounding"
    assert worst[18] > 3 * worst[0]


def test_two_frames_at_once_give_the_same_smoothed_video_in_order(tmp_path, photo_bgr):
    """OpenVINO streams stylize two frames at once; flow smoothing, which needs the previous output, still sees them in order."""
    pytest.importorskip("openvino")
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
    from stylecast.styles import resolve_style

    model = resolve_style("cafe_terrace_rt")  # a real style: random weights paint every frame nearly black

    src = tmp_path / "pan.mkv"
    _panning_clip(src, photo_bgr)
    outputs = []
    for streams in (1, 2):
        backend = OpenVinoBackend(model, precision="f32")
        workers = frames_in_flight(backend, streams)
        assert workers == streams
        config = _config(model, smooth="flow", crf=0, streams=streams)
        result = stylize_video(src, tmp_path / f"s{streams}.mkv", WorkingSizePainter(Stylizer(backend), 640), 8, config, workers=workers)
        assert result.frames == 24
        outputs.append(decoded_frames(result.output))
    assert len(outputs[0]) == len(outputs[1]) == 24
    for a, b in zip(*outputs):
        # one- and two-stream compiles may pick other f32 kernels: a few grey levels at a few pixels
        diff = np.abs(a.astype(int) - b)
        assert diff.max() <= 4 and diff.mean() < 0.2
    # and the frames really differ from each other, so a shuffled order would have shown
    assert np.abs(outputs[0][0].astype(int) - outputs[0][-1]).mean() > 5


def test_streams_are_for_openvino_only(tiny_model):
    backend = OnnxRuntimeBackend(tiny_model)
    assert frames_in_flight(backend) == 1
    with pytest.raises(StylecastError, match="only the OpenVINO backend"):
        frames_in_flight(backend, 2)


def _panning_clip(path: Path, photo_bgr: np.ndarray, frames: int = 24) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=12)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv444p"
        for i in range(frames):
            image = np.ascontiguousarray(photo_bgr[40:136, 6 * i:6 * i + 128])
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    return path
