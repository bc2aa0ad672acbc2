"""Person segmentation on real pictures of people (Debian opencv-doc): the mask, its conversion
from MediaPipe's TFLite, its steadiness on a real clip, and --paint end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecast.segment import CARD
from stylecast.segment.flicker import boundary_flicker
from stylecast.segment.matte import PersonMatte
from stylecast.segment.segmenter import GENERAL, LANDSCAPE, PersonSegmenter, model_for

DOCS = Path("/usr/share/doc/opencv-doc/opencv4/html")
DATA = Path("/usr/share/doc/opencv-doc/examples/data")
ROOT = Path(__file__).resolve().parents[2]
# face_swapped.jpg (320x320, a man before a dark room): his face, and two patches of the room
FACE = (slice(90, 200), slice(120, 210))
ROOM = [(slice(0, 160), slice(0, 60)), (slice(0, 160), slice(270, 320))]


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} missing: apt-get install opencv-doc")
    return path


@pytest.fixture(scope="module")
def portrait() -> Path:
    return _need(DOCS / "face_swapped.jpg")


@pytest.fixture(scope="module")
def segmenter() -> PersonSegmenter:
    return PersonSegmenter()


def test_the_mask_covers_the_person_and_not_the_room(portrait, segmenter):
    image = cv2.imread(str(portrait))
    person = PersonMatte(segmenter, smooth=False)(image)
    assert person.shape == image.shape[:2] and person.dtype == np.float32
    assert person[FACE].mean() > 0.95
    for room in ROOM:
        assert person[room].mean() < 0.05


def test_a_footballer_is_found_in_front_of_the_crowd(segmenter):
    image = cv2.imread(str(_need(DATA / "messi5.jpg")))  # 548x342: a player mid-kick before a stadium crowd
    person = PersonMatte(segmenter, smooth=False)(image)
    crowd = person[:60]  # the stands along the top, where no one is in front
    assert crowd.mean() < 0.05
    assert (person > 0.5).mean() > 0.05  # the player: a tenth of the picture, give or take
    assert person[120:200, 230:300].mean() > 0.8  # his shirt


def test_a_16_by_9_frame_uses_the_landscape_network_and_others_the_square_one():
    assert model_for(1280, 720) == LANDSCAPE and model_for(640, 480) == GENERAL and model_for(480, 640) == GENERAL


def test_the_onnx_matches_mediapipe_s_tflite_original(tmp_path):
    """Run by MediaPipe 0.10.14's own TFLite interpreter in its own venv (it pins protobuf 4), on
    real photos with people; .ci/run makes that venv and names it in STYLECAST_MEDIAPIPE_PYTHON."""
    python = os.environ.get("STYLECAST_MEDIAPIPE_PYTHON")
    if not python:
        pytest.skip("STYLECAST_MEDIAPIPE_PYTHON is not set (a python with mediapipe==0.10.14; .ci/run makes one)")
    photos = [_need(DOCS / "face_swapped.jpg"), _need(DOCS / "faceDetection.png"), _need(DATA / "messi5.jpg"),
              _need(DATA / "basketball1.png")]
    refs = tmp_path / "refs.npz"
    subprocess.run([python, str(ROOT / "scripts" / "convert_selfie_segmentation.py"), "--reference", str(refs),
                    *map(str, photos)], check=True, capture_output=True, timeout=300)
    data = np.load(refs)
    card = json.loads(CARD.read_text())["models"]
    import onnxruntime as ort

    for selection, onnx_name in ((1, "selfie_landscape.onnx"), (0, "selfie_general.onnx")):
        assert str(data[f"sha256_{card[onnx_name]['tflite'][:-7]}"]) == card[onnx_name]["sha256_tflite"]
        session = ort.InferenceSession(str(GENERAL.parent / onnx_name), providers=["CPUExecutionProvider"])
        for k in range(len(photos)):
            want = data[f"{selection}_{k}_mask"]
            got = session.run(None, {"frame": data[f"{selection}_{k}_image"][None]})[0]
            assert got.shape == want.shape
            assert np.abs(got - want).max() < 2e-3
            assert np.array_equal(got > 0.5, want > 0.5) or np.mean((got > 0.5) != (want > 0.5)) < 1e-4


def test_smoothing_over_time_steadies_the_boundary_on_a_real_clip(segmenter):
    cap = cv2.VideoCapture(str(_need(DATA / "Megamind.avi")))  # animated people talking at a table
    frames = []
    while len(frames) < 120:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (360, 264), interpolation=cv2.INTER_AREA))
    assert len(frames) == 120
    raw = boundary_flicker(frames, [PersonMatte(segmenter, smooth=False)(f) for f in frames])
    smoothed = boundary_flicker(frames, [m for m in map(PersonMatte(segmenter), frames)])
    assert raw > 0.01  # there is shimmer to remove
    assert smoothed < 0.7 * raw


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stylecast", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def painted(portrait, tmp_path_factory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("paint")
    pictures = {}
    for where in ("all", "background", "person"):
        target = out / f"{where}.png"
        r = _cli("image", str(portrait), "-s", "starry_night_lite_rt", "--paint", where, "-o", str(target))
        assert r.returncode == 0, r.stderr
        pictures[where] = cv2.imread(str(target)).astype(np.float32)
    pictures["original"] = cv2.imread(str(portrait)).astype(np.float32)
    return pictures


def _change(pictures, where: str, region) -> float:
    return float(np.abs(pictures[where][region] - pictures["original"][region]).mean())


def test_paint_background_keeps_the_face_and_paints_the_room_as_fully_as_paint_all(painted):
    assert _change(painted, "all", FACE) > 20  # the style repaints a face when let
    assert _change(painted, "background", FACE) < 3  # within a few grey levels
    for room in ROOM:
        assert _change(painted, "background", room) >= 0.95 * _change(painted, "all", room) > 5


def test_paint_person_paints_the_face_and_leaves_the_room(painted):
    assert _change(painted, "person", FACE) >= 0.95 * _change(painted, "all", FACE)
    for room in ROOM:
        assert _change(painted, "person", room) < 3


def test_paint_background_on_a_video_file(portrait, tmp_path):
    """A clip of the portrait panning slowly: every frame keeps the face and paints the room."""
    import av

    from tests.realtime.clips import pan_clip

    clip = pan_clip(tmp_path / "pan.mkv", cv2.imread(str(portrait)), frames=12, fps=10, size=(300, 300), step=1)
    target = tmp_path / "pan-bg.mkv"
    r = _cli("video", str(clip), "-s", "cafe_terrace_rt", "--paint", "background", "--smooth", "flow",
             "--crf", "0", "--quiet", "-o", str(target))
    assert r.returncode == 0, r.stderr
    with av.open(str(clip)) as a, av.open(str(target)) as b:
        pairs = list(zip((f.to_ndarray(format="bgr24") for f in a.decode(video=0)),
                         (f.to_ndarray(format="bgr24") for f in b.decode(video=0))))
    assert len(pairs) == 12
    for i, (src, out) in enumerate(pairs):
        face = (slice(90 - i, 200 - i), slice(120 - i, 210 - i))
        room = (slice(0, 150), slice(0, 50))
        assert np.abs(out[face].astype(int) - src[face]).mean() < 4
        assert np.abs(out[room].astype(int) - src[room]).mean() > 5
