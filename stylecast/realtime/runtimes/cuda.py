"""Whether onnxruntime can really run on a CUDA GPU here, and with which providers."""
from __future__ import annotations

from importlib import util
from pathlib import Path

from stylecast.realtime.runtimes.onnxruntime_backend import onnxruntime_installs


def cuda_available() -> tuple[bool, str]:
    if util.find_spec("onnxruntime") is None:
        return False, "onnxruntime is not installed"
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False, "this onnxruntime has no CUDA provider (pip install 'stylecast[gpu]')"
    installs = onnxruntime_installs()
    if len(installs) > 1:
        return False, (f"{' and '.join(installs)} are both installed and overwrite each other: "
                       "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu")
    return True, "onnxruntime CUDA provider is available"


def library_loadable(names: tuple[str, ...]) -> bool:
    """Whether any of these shared libraries loads here (a provider listed is not a provider that runs)."""
    import ctypes

    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def tensorrt_loadable() -> bool:
    """onnxruntime-gpu lists TensorRT whether or not TensorRT itself is installed; only its library tells."""
    # or the pip wheels, which onnxruntime can load
    return library_loadable(("libnvinfer.so.10", "nvinfer_10.dll")) or util.find_spec("tensorrt_libs") is not None


def gpu_providers(available: list[str], cache_dir: Path) -> list[str | tuple[str, dict]]:
    """TensorRT first when it is really there (fp16 engines, cached between runs), then CUDA, then CPU."""
    providers: list[str | tuple[str, dict]] = []
    if "TensorrtExecutionProvider" in available and tensorrt_loadable():
        providers.append(("TensorrtExecutionProvider", {"trt_fp16_enable": True, "trt_engine_cache_enable": True,
                                                        "trt_engine_cache_path": str(cache_dir / "tensorrt")}))
    return providers + ["CUDAExecutionProvider", "CPUExecutionProvider"]


def load_cuda_libraries() -> None:
    """Let onnxruntime find CUDA/cuDNN installed as pip wheels (nvidia-*), as PyTorch does."""
    import onnxruntime as ort

    if hasattr(ort, "preload_dlls"):  # onnxruntime >= 1.21
        try:
            ort.preload_dlls()
        except Exception:  # missing wheels: the system libraries may still be there
            pass
