"""`stylecast doctor`: what this machine can do with stylecast, and what to fix.

Each check is one small function returning a ``Check``; ``basic`` checks decide the exit status
(a painting must be possible), the rest inform (cameras, display, GPU, virtual camera).
"""
from __future__ import annotations

import socket
import sys
from dataclasses import asdict, dataclass
from importlib import metadata, util
from pathlib import Path

from stylecast.machine import cpu_info

DEFAULT_HTTP_PORT = 8765


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    basic: bool = False  # a failing basic check makes `doctor` exit 1

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.basic else "note")
        return f"{mark}  {self.name:<16} {self.detail}" + (f"\n      fix: {self.fix}" if self.fix and not self.ok else "")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def check_python() -> Check:
    v = sys.version_info
    return Check("python", v >= (3, 10), f"{sys.version.split()[0]} at {sys.executable}",
                 "install Python 3.10 or newer", basic=True)


def check_packages() -> Check:
    names = ("stylecast", "numpy", "opencv-python", "av", "onnxruntime", "onnxruntime-gpu", "openvino", "torch",
             "pyvirtualcam")
    found = {n: _version(n) for n in names}
    core = [n for n in ("numpy", "opencv-python", "av") if not found[n]]
    listed = ", ".join(f"{n} {v}" for n, v in found.items() if v)
    return Check("packages", not core, listed, f"pip install {' '.join(core)}" if core else "", basic=True)


def check_runtimes() -> Check:
    from stylecast.realtime.runtimes.backends import INSTALL_HINT
    from stylecast.realtime.runtimes.onnxruntime_backend import onnxruntime_installs

    ort = onnxruntime_installs()
    openvino = util.find_spec("openvino") is not None
    if len(ort) > 1:
        return Check("runtimes", False, f"{' and '.join(ort)} are both installed and overwrite each other",
                     "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu (GPU) or onnxruntime (CPU)",
                     basic=True)
    have = ort + (["openvino"] if openvino else [])
    tip = "" if openvino else "; pip install 'stylecast[openvino]' is several times faster on Intel and AMD CPUs"
    return Check("runtimes", bool(have), (", ".join(have) or "none") + tip, INSTALL_HINT, basic=True)


def check_paints() -> Check:
    """The cheapest bundled style paints one small frame with the backend `live` would pick."""
    import numpy as np

    from stylecast.errors import StylecastError
    from stylecast.realtime.runtimes.backends import open_backend
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.styles import bundled_styles

    try:
        styles = sorted((s for s in bundled_styles() if s.card), key=lambda s: s.card.cost_rank)
    except StylecastError as e:  # the styles could not be unpacked
        return Check("painting", False, str(e), "set STYLECAST_CACHE", basic=True)
    if not styles:
        return Check("painting", False, "no bundled styles found", "reinstall stylecast", basic=True)
    try:
        choice = open_backend(styles[0].model)
        out = Stylizer(choice.backend)(np.full((48, 64, 3), 128, np.uint8))
    except StylecastError as e:
        return Check("painting", False, str(e), "see the runtimes line", basic=True)
    return Check("painting", out.shape == (48, 64, 3), f"{styles[0].name} painted a test frame with {choice.backend.name} "
                 f"{list(choice.backend.providers)}; {len(styles)} styles unpacked in {styles[0].model.parent}",
                 basic=True)


def check_person() -> Check:
    """The bundled person segmentation network (``--paint background|person``) runs on a test frame."""
    import numpy as np

    from stylecast.errors import StylecastError
    from stylecast.segment.segmenter import PersonSegmenter, model_for

    segmenter = PersonSegmenter()
    try:
        mask = segmenter(np.full((48, 64, 3), 128, np.uint8))
    except StylecastError as e:
        return Check("person", False, str(e), "reinstall stylecast")
    runtime = segmenter.session(model_for(64, 48)).runtime
    return Check("person", mask.ndim == 2, f"the segmentation network runs on {runtime}: --paint background|person works")


def check_cluster() -> Check:
    version = _version("ray")
    if version is None:
        return Check("cluster", False, "ray is not installed: stylecast video --ray needs it", "pip install 'stylecast[cluster]'")
    return Check("cluster", True, f"ray {version}: stylecast video --ray local|auto|HOST:PORT works")


def check_cpu(isa_limit: str | None = None) -> Check:
    info = cpu_info()
    meaning = {
        "AMX": "every style is live at 640x480, every painting at HD (governed)",
        # measured: _lite_rt and _fast at 18-35 fps on 2-core Zen 4 EPYCs, by chip (docs/speed.md)
        "AVX-512 VNNI": ("int8 is fast: cafe_terrace_rt and paintings_rt (every painting) are live at 640x480, "
                         "_lite_rt and _fast styles nearly so; every painting at HD (governed)"),
        "AVX-512": "_rt styles are live; others governed to a smaller working size",
        "AVX2": ("cafe_terrace_rt and paintings_rt (every painting) are live at 640x480; other networks are governed "
                 "to a smaller working size (bolder strokes)"),
        "pre-AVX2": "expect a few frames per second; use --size 320x240",
    }[info.machine_class]
    return Check("cpu", True, f"{info.line(isa_limit).removeprefix('cpu: ')}: {meaning}")


CUDA_LIBRARIES = (("CUDA runtime", ("libcudart.so.12", "libcudart.so.13", "cudart64_12.dll")),
                  ("cuDNN", ("libcudnn.so.9", "cudnn64_9.dll")), ("cuBLAS", ("libcublas.so.12", "libcublas.so.13", "cublas64_12.dll")))


def check_cuda() -> Check:
    """Whether onnxruntime really runs on the GPU: a tiny session, with the providers it got."""
    if util.find_spec("onnxruntime") is None:
        return Check("cuda", False, "onnxruntime is not installed", "pip install 'stylecast[gpu]' on an NVIDIA machine")
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return Check("cuda", False, "this onnxruntime has no CUDA provider (CPU build)",
                     "on an NVIDIA machine: pip uninstall -y onnxruntime && pip install 'stylecast[gpu]'")
    from stylecast.realtime.runtimes.cuda import library_loadable, load_cuda_libraries
    from stylecast.styles import bundled_styles

    load_cuda_libraries()
    missing = [what for what, names in CUDA_LIBRARIES if not library_loadable(names)]
    model = min((s.model for s in bundled_styles()), key=lambda p: p.stat().st_size)
    session = ort.InferenceSession(str(model), providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    runs = session.get_providers()
    if runs[0] != "CUDAExecutionProvider":
        return Check("cuda", False, f"the CUDA provider did not start (session runs on {runs[0]})"
                     + (f"; not found: {', '.join(missing)}" if missing else ""),
                     "pip install nvidia-cudnn-cu12 nvidia-cublas-cu12 nvidia-cuda-runtime-cu12, or the system's CUDA 12 and cuDNN 9")
    return Check("cuda", True, "a session runs on CUDAExecutionProvider")


def check_cameras(dev: Path = Path("/dev"), sysfs: Path = Path("/sys/class/video4linux")) -> Check:
    if not sys.platform.startswith("linux"):
        return Check("cameras", True, "not listed on this OS: stylecast live --source 0 tries the first camera")
    names = []
    for node in sorted(dev.glob("video*")):
        label = sysfs / node.name / "name"
        names.append(f"{node} ({label.read_text().strip()})" if label.is_file() else str(node))
    return Check("cameras", bool(names), ", ".join(names) or "no /dev/video* devices",
                 "plug in a camera, or test with --source VIDEO_FILE --loop")


def check_virtual_camera(sysfs: Path = Path("/sys/class/video4linux"), module: Path = Path("/sys/module/v4l2loopback")) -> Check:
    pyvirtualcam = _version("pyvirtualcam")
    if not sys.platform.startswith("linux"):
        return Check("virtual camera", bool(pyvirtualcam), f"pyvirtualcam {pyvirtualcam or 'missing'}; it needs OBS Studio's "
                     "virtual camera installed", "pip install 'stylecast[virtualcam]' and install OBS Studio")
    loop = module.exists() or any("loopback" in (p / "name").read_text().lower() or "dummy" in (p / "name").read_text().lower()
                                  for p in sysfs.glob("video*") if (p / "name").is_file())
    ok = bool(pyvirtualcam) and loop
    detail = f"pyvirtualcam {pyvirtualcam or 'missing'}, v4l2loopback {'loaded' if loop else 'not loaded'}"
    return Check("virtual camera", ok, detail, "pip install 'stylecast[virtualcam]'; sudo modprobe v4l2loopback devices=1 "
                 "exclusive_caps=1 card_label=stylecast")


def check_display() -> Check:
    from stylecast.realtime.live.display import window_problem

    problem = window_problem()
    return Check("display", problem is None, problem or "a display answers: --sink window works",
                 "use --sink http, virtualcam or file where no display answers")


def check_port(port: int = DEFAULT_HTTP_PORT) -> Check:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            return Check("http port", False, f"127.0.0.1:{port} is taken ({e.strerror})", "pass --port to --sink http")
    return Check("http port", True, f"127.0.0.1:{port} is free for --sink http")


def run_checks(isa_limit: str | None = None) -> list[Check]:
    return [check_python(), check_packages(), check_runtimes(), check_paints(), check_person(), check_cpu(isa_limit),
            check_cuda(), check_cameras(), check_virtual_camera(), check_display(), check_port(), check_cluster()]


def report(checks: list[Check]) -> dict:
    return {"ok": all(c.ok for c in checks if c.basic), "checks": [asdict(c) for c in checks]}
