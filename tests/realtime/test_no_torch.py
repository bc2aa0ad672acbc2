"""The runtime path must work where torch is not installed: hide it and try."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HIDE_TORCH = textwrap.dedent("""
    import importlib.abc, sys
    class HideTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by test)")
            return None
    sys.meta_path.insert(0, HideTorch())
""")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE_TORCH + textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_realtime_imports_without_torch():
    proc = _run("""
        import pkgutil, importlib, sys, json
        import stylecast.realtime as rt
        names = [m.name for m in pkgutil.walk_packages(rt.__path__, "stylecast.realtime.")]
        for n in names:
            importlib.import_module(n)
        importlib.import_module("stylecast.cli")
        importlib.import_module("stylecast.styles")
        print(json.dumps({"modules": names, "torch": "torch" in sys.modules}))
    """)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "stylecast.realtime.runtimes.backends" in result["modules"]
    assert result["torch"] is False


def test_image_command_runs_without_torch(tiny_model, photo_path, tmp_path):
    out = tmp_path / "out.png"
    proc = _run(f"""
        import sys
        from stylecast.cli import main
        code = main(["image", {str(photo_path)!r}, "-s", {str(tiny_model)!r}, "-o", {str(out)!r}, "--backend", "cpu"])
        assert "torch" not in sys.modules
        sys.exit(code)
    """)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.stat().st_size > 1000
