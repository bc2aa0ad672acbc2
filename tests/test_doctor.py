"""`stylecast doctor` on this machine: the basics pass, the CPU line names its instruction sets,
a runtime clash fails with a fix, --json is strict."""
import json

from stylecast import doctor
from stylecast.cli import main


def test_doctor_runs_here_and_names_the_cpu(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "ok    python" in out and "ok    painting" in out
    cpu = next(line for line in out.splitlines() if line.startswith("ok    cpu"))
    assert "AVX2" in cpu and "class" in cpu, "this CPU's instruction sets are named"
    assert "ok    person           the segmentation network runs on" in out  # --paint's network loads and runs
    assert out.rstrip().endswith("the basics work: stylecast can paint here")


def test_doctor_json_is_one_strict_document(capsys):
    assert main(["doctor", "--json"]) == 0
    document = json.loads(capsys.readouterr().out, parse_constant=lambda c: 1 / 0)
    assert document["ok"] is True
    names = [c["name"] for c in document["checks"]]
    assert names == ["python", "packages", "runtimes", "painting", "person", "cpu", "cuda", "cameras", "virtual camera",
                     "display", "http port", "cluster"]


def test_two_onnxruntime_builds_fail_with_the_fix(monkeypatch, capsys):
    from stylecast.realtime.runtimes import onnxruntime_backend

    monkeypatch.setattr(onnxruntime_backend, "onnxruntime_installs", lambda: ["onnxruntime", "onnxruntime-gpu"])
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  runtimes" in out and "overwrite each other" in out and "pip uninstall -y onnxruntime onnxruntime-gpu" in out


def test_cameras_and_virtual_camera_from_sysfs(tmp_path):
    dev, sysfs = tmp_path / "dev", tmp_path / "sys"
    dev.mkdir()
    for name, label in (("video0", "Integrated Camera"), ("video2", "Dummy video device (0x0000)")):
        (dev / name).touch()
        (sysfs / name).mkdir(parents=True)
        (sysfs / name / "name").write_text(label + "\n")
    cameras = doctor.check_cameras(dev, sysfs)
    assert cameras.ok and "Integrated Camera" in cameras.detail
    assert "v4l2loopback loaded" in doctor.check_virtual_camera(sysfs, tmp_path / "no-module").detail
    assert not doctor.check_cameras(tmp_path / "empty", sysfs).ok


def test_a_taken_port_is_named():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        check = doctor.check_port(port)
    assert not check.ok and f"127.0.0.1:{port} is taken" in check.detail and "--port" in check.fix
    assert doctor.check_port(port).ok


def test_the_cluster_line_says_whether_ray_is_there(monkeypatch):
    monkeypatch.setattr(doctor, "_version", lambda dist: None if dist == "ray" else "1.0")
    missing = doctor.check_cluster()
    assert not missing.ok and not missing.basic and "stylecast[cluster]" in missing.fix
    monkeypatch.setattr(doctor, "_version", lambda dist: "2.60.0")
    assert doctor.check_cluster().ok and "ray 2.60.0" in doctor.check_cluster().detail
