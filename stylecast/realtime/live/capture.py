"""Live frame sources: cameras, video files played in real time, network streams, and the
"latest frame wins" wrapper that keeps the picture from lagging behind reality."""
from __future__ import annotations

import itertools
import statistics
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.hd.painter import shrink
from stylecast.realtime.media.sources import Frame, VideoFileSource
from stylecast.sizing import MAX_FRAME_PIXELS, crop_to_aspect


@dataclass(frozen=True)
class Granted:
    """What a camera actually delivers, which is not always what was asked for."""

    width: int
    height: int
    fps: float
    # CPU seconds (every thread's) the source spends making a frame: decoding, converting, resizing.
    # It runs beside the painting on the same cores, so the governor counts it when it settles.
    frame_cost_s: float = 0.0


# Frames timed on opening a source: enough for a steady median, few enough to start at once.
COST_FRAMES = 6


def cpu_per_frame(frames: Iterator, count: int = COST_FRAMES) -> float:
    """Process CPU seconds per frame that ``frames`` takes to make (the median of ``count``, after a
    first one that pays for starting up); the wait for a camera's next frame costs nothing."""
    it = iter(frames)
    if next(it, None) is None:
        return 0.0
    costs = []
    for _ in range(count):
        start = time.process_time()
        if next(it, None) is None:
            break
        costs.append(time.process_time() - start)
    return statistics.median(costs) if costs else 0.0


@contextmanager
def _quiet_probing(quiet: bool) -> Iterator[None]:
    """OpenCV's own log silenced while it tries camera backends for an index.

    A missing camera index makes each capture backend print warnings (about fifteen lines, one an
    ERROR) before ours, which already lists the video devices there are. A stream URL keeps the
    log: FFmpeg's lines say why a stream failed (refused, not found, bad codec).
    """
    if not quiet:
        yield
        return
    previous = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


class CameraSource:
    """An OpenCV capture: a camera index, a /dev/videoN path, or a network stream URL."""

    still = False  # a camera's scene moves; only a file source may be a still picture

    def __init__(self, device: str | int, size: tuple[int, int] | None = None, fps: float | None = None) -> None:
        self.device = int(device) if isinstance(device, str) and device.isdigit() else device
        self.size, self.fps = size, fps
        self._cap: cv2.VideoCapture | None = None

    def __enter__(self) -> "CameraSource":
        tried = "OpenCV's default capture backend"
        with _quiet_probing(isinstance(self.device, int)):
            cap = cv2.VideoCapture(self.device)
            if not cap.isOpened() and isinstance(self.device, int):
                cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
                tried += ", then V4L2"
        if not cap.isOpened():
            cameras = sorted(str(p) for p in Path("/dev").glob("video*"))
            raise StylecastError(f"cannot open camera/stream {self.device} (tried {tried}); video devices here: "
                                 f"{', '.join(cameras) or 'none'}. Try --source FILE to test without a camera")
        if self.size:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        self._cap = cap
        # A local camera delivers or fails within a frame period or its driver's timeout; a network
        # stream may stall for as long as it likes, so its frames are not waited for here.
        local = isinstance(self.device, int) or str(self.device).startswith("/dev/")
        self.granted = Granted(int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                               float(cap.get(cv2.CAP_PROP_FPS) or 0), cpu_per_frame(self._images()) if local else 0.0)
        return self

    def __exit__(self, *exc) -> None:
        if self._cap is not None:
            self._cap.release()

    def _images(self) -> Iterator:
        while True:
            ok, image = self._cap.read()
            if not ok:
                return
            yield image

    def __iter__(self) -> Iterator[Frame]:
        for index, image in enumerate(self._images()):
            yield Frame(image, index, pts=None, time_base=None)


STILL_FPS = 30.0


class PacedFileSource:
    """A video file played at its own speed, like a camera, so the live path runs without one."""

    def __init__(self, path: Path, loop: bool = False, size: tuple[int, int] | None = None, fps: float | None = None) -> None:
        self.path, self.loop, self.size, self.fps = Path(path), loop, size, fps

    def __enter__(self) -> "PacedFileSource":
        images: list[np.ndarray] = []  # the probe's first two frames: one alone is a still picture

        def probed(probe: VideoFileSource) -> Iterator[np.ndarray]:
            for decoded in probe.decoded():
                image = self._image(decoded)
                if len(images) < 2:
                    images.append(image)
                yield image

        with VideoFileSource(self.path) as probe:  # fail now, with the usual message, if unreadable
            info = probe.info
            cost = cpu_per_frame(probed(probe))
        # A still picture has no end of its own: it is shown, painted, until the session ends (an
        # OBS overlay of a photo, the style switched from the page), as the probe decoded it.
        self._still_image = images[0] if len(images) == 1 else None
        # a still's own rate means nothing (a GIF claims 100 fps): a camera's, unless --fps says
        rate = self.fps or (min(float(info.fps), STILL_FPS) if self.still else info.fps)
        self.granted = Granted(*(self.size or (info.width, info.height)), float(rate), cost)
        return self

    @property
    def still(self) -> bool:
        return self._still_image is not None

    def _image(self, decoded) -> np.ndarray:
        image = decoded.to_ndarray(format="bgr24")
        if self.size and image.shape[1::-1] != self.size:
            # cropped like a camera, not squeezed; then by halves and bilinear: a direct area-averaged
            # 1920x1080 -> 1280x720 took 9 ms of CPU a frame, bilinear 2 ms, beside the painting
            image = shrink(crop_to_aspect(image, self.size), self.size, rest=cv2.INTER_LINEAR)
        return image

    def __exit__(self, *exc) -> None:
        pass

    def __iter__(self) -> Iterator[Frame]:
        if self.still:
            yield from self._still()
            return
        index = 0
        started = time.perf_counter()
        while True:
            with VideoFileSource(self.path) as src:
                opened, first = _identity(self.path), index
                while True:
                    played = index
                    # The decoder's own frames, not the timestamp-ordered stream of ``iter(src)``:
                    # that one holds back REORDER_WINDOW frames, and refilling it at each loop's
                    # start took about 100 ms of decoding at 1080p, a frame or more lost each time round.
                    for decoded in src.decoded():
                        image = self._image(decoded)
                        due = index / self.granted.fps  # one timeline across loops: no burst at each restart
                        delay = due - (time.perf_counter() - started)
                        if delay > 0:
                            time.sleep(delay)
                        yield Frame(image, index, pts=None, time_base=None)
                        index += 1
                    if not self.loop or index == first:  # played once, or nothing decodable since opening: done
                        return
                    if index == played:
                        break  # the rewind gave nothing (a still picture cannot seek back): open it again
                    if _identity(self.path) != opened:
                        break  # replaced or deleted meanwhile: opened again, which says if it is gone
                    src.rewind()

    def _still(self) -> Iterator[Frame]:
        image = self._still_image
        started = time.perf_counter()
        for index in itertools.count():
            delay = index / self.granted.fps - (time.perf_counter() - started)
            if delay > 0:
                time.sleep(delay)
            yield Frame(image.copy(), index, pts=None, time_base=None)  # each frame its own, as a camera's


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a file from the one that was at its path before (None: nothing there now)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


@dataclass(frozen=True)
class Captured:
    frame: Frame
    captured_at: float  # time.perf_counter() when the frame arrived
    dropped: int  # frames replaced before anyone took them, so far


class LatestFrame:
    """Reads a source in its own thread and keeps only the newest frame: stale frames are dropped,
    never queued, so inference always works on the present."""

    def __init__(self, frames: Iterator[Frame] | object) -> None:
        self._frames = frames
        self._latest: Captured | None = None
        self._cond = threading.Condition()
        self._done = False
        self._error: BaseException | None = None  # the reader's, raised in the loop's thread by ``get``
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "LatestFrame":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._done = True
            self._cond.notify_all()
        # Wait for the reader to close its decoder itself: a decoder torn down by interpreter
        # shutdown while its thread is inside FFmpeg aborts the process.
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            self._read()
        except Exception as e:  # a looping file deleted meanwhile, a camera unplugged: the loop reports it
            self._error = e
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _read(self) -> None:
        try:
            for frame in self._frames:
                with self._cond:
                    if self._done:
                        return
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = Captured(frame, time.perf_counter(), self.dropped)
                    self._cond.notify_all()
        finally:
            close = getattr(self._frames, "close", None)
            if close is not None:
                close()  # a generator: runs its `with VideoFileSource` exit here, in this thread

    def get(self, timeout: float = 5.0) -> Captured | None:
        """The newest frame not yet taken; None once the source has ended."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._latest is not None or self._done, timeout):
                raise StylecastError(f"no frame from the source for {timeout:.0f} s")
            latest, self._latest = self._latest, None
            if latest is None and self._error is not None:
                error = self._error
                if isinstance(error, StylecastError):
                    raise error
                raise StylecastError(f"the source stopped: {error}") from error
            return latest


MAX_FRAME_SIDE = 16384  # H.264's and OpenCV's writers stop here; a longer side is a typo, not a camera


def parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise StylecastError(f"bad size {text!r}: write WIDTHxHEIGHT, e.g. 640x480") from None
    if w <= 0 or h <= 0:
        raise StylecastError(f"bad size {text!r}: width and height must be above 0")
    if w * h > MAX_FRAME_PIXELS:  # every frame of that size would be gigabytes
        raise StylecastError(f"bad size {text!r}: at most {MAX_FRAME_PIXELS:,} pixels (8K UHD, 7680x4320)")
    if max(w, h) > MAX_FRAME_SIDE:
        raise StylecastError(f"bad size {text!r}: at most {MAX_FRAME_SIDE} pixels a side")
    return w, h


def open_live_source(spec: str, size: tuple[int, int] | None, loop: bool, fps: float | None = None):
    """--source: a camera index or /dev/videoN, a URL, or a video file (played in real time, or at ``fps``)."""
    if spec.isdigit() or spec.startswith("/dev/video") or "://" in spec:
        return CameraSource(spec, size, fps)
    path = Path(spec)
    if not path.exists():
        raise StylecastError(f"source not found: {spec} (give a camera index like 0, /dev/videoN, a URL or a video file)")
    return PacedFileSource(path, loop=loop, size=size, fps=fps)
