"""Live sinks: a preview window with hotkeys, a virtual camera, and a recording. Each is a context
manager with ``write(frame)``; hardware-facing parts are injectable so the logic is testable."""
from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.live.controls import LiveControls
from stylecast.realtime.live.display import INSTEAD, window_problem
from stylecast.realtime.media.sinks import VideoFileSink, default_codec
from stylecast.realtime.media.sources import Frame, VideoInfo

HELP_LINE = "n/p style  s smooth  c colours  b paint where  o original  +/- strength  space snapshot  q quit"


def handle_key(key: int, controls: LiveControls) -> str | None:
    """Apply one window hotkey; returns what changed, for the on-screen message."""
    ch = chr(key & 0xFF) if key >= 0 else ""
    if ch in ("q", "\x1b"):
        controls.quit = True
        return "quit"
    if ch == "n":
        return f"style: {controls.cycle(+1)}"
    if ch == "p":
        return f"style: {controls.cycle(-1)}"
    if ch == "s":
        controls.smoothing = not controls.smoothing
        return f"smoothing {'on' if controls.smoothing else 'off'}"
    if ch == "c":
        controls.keep_colors = not controls.keep_colors
        return f"original colours {'on' if controls.keep_colors else 'off'}"
    if ch == "b":
        return f"paint: {controls.cycle_paint()}"
    if ch == "o":
        controls.side_by_side = not controls.side_by_side
        return "side by side" if controls.side_by_side else "stylized only"
    if ch in ("+", "="):
        return f"strength {controls.set_strength(controls.strength + 0.1):.1f}"
    if ch in ("-", "_"):
        return f"strength {controls.set_strength(controls.strength - 0.1):.1f}"
    if ch == " ":
        controls.snapshot = True
        return "snapshot"
    return None


def draw_overlay(image: np.ndarray, lines: list[str]) -> np.ndarray:
    out = image.copy()
    for i, text in enumerate(lines):
        y = 22 + 22 * i
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


class WindowSink:
    """OpenCV preview window with hotkeys, stats overlay and snapshots."""

    def __init__(self, *, controls: LiveControls, title: str = "stylecast", snapshot_dir: Path = Path("."),
                 show: Callable[[str, np.ndarray], None] | None = None, poll_key: Callable[[int], int] | None = None) -> None:
        self.controls, self.title, self.snapshot_dir = controls, title, Path(snapshot_dir)
        self._show, self._poll = show or cv2.imshow, poll_key or cv2.waitKey
        self.stats_line = ""
        self._message, self._message_until = "", 0.0
        self.snapshots: list[Path] = []

    def __enter__(self) -> "WindowSink":
        if self._show is not cv2.imshow:
            return self
        problem = window_problem()
        if problem:
            raise StylecastError(f"{problem}: {INSTEAD}")
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
        except cv2.error as e:
            raise StylecastError(f"cannot open a window here (no display, or a headless OpenCV build): {INSTEAD}") from e
        return self

    def __exit__(self, *exc) -> None:
        if self._show is cv2.imshow:
            cv2.destroyWindow(self.title)

    def compose(self, frame: Frame) -> np.ndarray:
        image = frame.image
        if self.controls.side_by_side and frame.original is not None:
            image = np.hstack([frame.original, image])
        lines = [f"{self.controls.style}  {self.stats_line}", HELP_LINE]
        if time.monotonic() < self._message_until:
            lines.append(self._message)
        return draw_overlay(image, lines)

    def write(self, frame: Frame) -> None:
        image = self.compose(frame)
        self._show(self.title, image)
        message = handle_key(self._poll(1), self.controls)
        if message:
            self._message, self._message_until = message, time.monotonic() + 1.5
        if self.controls.snapshot:
            self.controls.snapshot = False
            self.save_snapshot(frame.image)

    def save_snapshot(self, image: np.ndarray) -> Path:
        path = self.snapshot_dir / time.strftime("stylecast-%Y%m%d-%H%M%S.png")
        with atomic_path(path) as tmp:
            cv2.imwrite(str(tmp), image)
        self.snapshots.append(path)
        return path


VIRTUALCAM_HELP = (
    "no virtual camera device found. Linux: sudo apt install v4l2loopback-dkms && "
    "sudo modprobe v4l2loopback devices=1 card_label=stylecast exclusive_caps=1; "
    "Windows/macOS: install OBS Studio and start its Virtual Camera once"
)


class VirtualCameraSink:
    """Frames become a webcam other apps (Zoom, Meet, OBS) can pick, via pyvirtualcam."""

    def __init__(self, *, width: int, height: int, fps: float, camera_factory: Callable | None = None) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._factory = camera_factory
        self.device = ""

    def __enter__(self) -> "VirtualCameraSink":
        factory = self._factory
        if factory is None:
            try:
                import pyvirtualcam
            except ImportError as e:
                raise StylecastError("the virtual camera sink needs pyvirtualcam: pip install 'stylecast[virtualcam]'") from e
            factory = lambda **kw: pyvirtualcam.Camera(fmt=pyvirtualcam.PixelFormat.BGR, **kw)  # noqa: E731
        try:
            self._cam = factory(width=self.width, height=self.height, fps=self.fps)
        except RuntimeError as e:
            raise StylecastError(f"{VIRTUALCAM_HELP} ({e})") from e
        self.device = getattr(self._cam, "device", "")
        return self

    def __exit__(self, *exc) -> None:
        self._cam.close()

    def write(self, frame: Frame) -> None:
        image = frame.image
        if image.shape[1::-1] != (self.width, self.height):
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self._cam.send(image)


class LiveRecordingSink:
    """Records the live output with wall-clock timestamps, so dropped frames keep real timing."""

    def __init__(self, path: Path, *, width: int, height: int, fps: float) -> None:
        self.path = Path(path)
        info = VideoInfo(width=width, height=height, fps=Fraction(fps).limit_denominator(1000) or Fraction(30),
                         time_base=Fraction(1, 1000), frames=0)
        self._atomic = atomic_path(self.path)
        self._info = info
        self._write_failed = False
        self.frames_written = 0

    def __enter__(self) -> "LiveRecordingSink":
        tmp = self._atomic.__enter__()
        self._sink = VideoFileSink(tmp, info=self._info, codec=default_codec(self.path)).__enter__()  # VP9 in .webm
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        # Whatever ended the session (Ctrl-C, the source failing, a bug elsewhere), what was recorded
        # is finished and kept; only a recording that could not be written is thrown away.
        exc = exc if self._write_failed else (None, None, None)
        try:
            self._sink.__exit__(*exc)
        finally:
            self._atomic.__exit__(*exc)

    def write(self, frame: Frame) -> None:
        ms = int((time.perf_counter() - self._start) * 1000)
        try:
            self._sink.write(Frame(frame.image, frame.index, pts=ms, time_base=Fraction(1, 1000)))
        except OSError as e:  # a full disk mid-recording: one line, not a traceback
            self._write_failed = True
            raise StylecastError(f"could not write {self.path}: {e.strerror or e}") from e
        self.frames_written += 1
