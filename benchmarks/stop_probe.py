"""Stop `stylecast video` with SIGTERM/SIGHUP many times mid-painting and count the stops that do
not end as interrupted (exit 143/129), e.g. a SIGABRT from a runtime's threads at exit.

    python benchmarks/stop_probe.py 40 [extra video options, e.g. --streams 1]

Run a busy loop beside it (`python -c "while True: pass" &`) to stop under load, as in CI. Needs
opencv-doc's Megamind.avi. Prints how many of the stops failed, and each failure's last stderr lines.
"""
from __future__ import annotations

import glob
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIP = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"


def main(runs: int, extra: list[str]) -> None:
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        for i in range(runs):
            out = Path(folder) / f"out{i}.mp4"
            p = subprocess.Popen([sys.executable, "-m", "stylecast", "video", CLIP, "-s", "starry_night", "--stroke-scale",
                                  "0.5", "-o", str(out), "--quiet", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            while not glob.glob(f"{folder}/.out{i}*partial*") and p.poll() is None:
                time.sleep(0.02)  # painting has started
            time.sleep(0.5 + 0.137 * (i % 7))  # at different moments of a frame
            sig = signal.SIGHUP if i % 2 else signal.SIGTERM
            p.send_signal(sig)
            _, err = p.communicate()
            if p.returncode != 128 + sig:
                failed += 1
                print(f"stop {i}: exit {p.returncode}: {err.strip().splitlines()[-2:]}")
    print(f"{failed} of {runs} stops did not end as interrupted {extra}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, sys.argv[2:])
