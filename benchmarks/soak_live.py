"""Soak test: run `stylecast live` from a looping file for a while and watch its memory.

    python benchmarks/soak_live.py --source /usr/share/doc/opencv-doc/examples/data/vtest.avi \
        --style cafe_terrace_rt --seconds 600 --fps 30 --size 640x480

Prints resident memory every --every seconds and the live stats line; memory should stay flat.
Two viewers watch the MJPEG stream meanwhile: one stays connected, one drops its connection and
comes back every few seconds (clients that vanish mid-stream must not leak or stall anything).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Viewer:
    """Reads the MJPEG stream and counts JPEG frames; ``reconnect`` > 0 drops the connection that often."""

    def __init__(self, url: str, reconnect: float = 0.0) -> None:
        self.url, self.reconnect = url, reconnect
        self.frames = self.connects = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as stream:
                    self.connects += 1
                    opened = time.time()
                    while not self.stop.is_set():
                        chunk = stream.read(65536)
                        if not chunk:
                            break
                        self.frames += chunk.count(b"\xff\xd8\xff")  # JPEG start-of-image markers
                        if self.reconnect and time.time() - opened > self.reconnect:
                            break
            except OSError:
                time.sleep(0.5)  # server not up yet, or gone at the end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--style", required=True)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument("--fps", type=float, default=30.0, help="play the file like a camera at this rate")
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "stylecast.cli", "live", "--source", args.source, "--loop", "-s", args.style,
           "--sink", "http", "--port", str(args.port), "--duration", str(args.seconds), "--stats", "--fps", str(args.fps), "--size", args.size]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    samples = []
    start = time.time()
    last_stats = ""
    def read_stats() -> None:
        nonlocal last_stats
        for line in proc.stderr:
            if "fps" in line:
                last_stats = line.strip()

    threading.Thread(target=read_stats, daemon=True).start()
    url = f"http://127.0.0.1:{args.port}/stream.mjpg"
    viewers = [Viewer(url), Viewer(url, reconnect=5.0)]
    for viewer in viewers:
        viewer.thread.start()
    while proc.poll() is None:
        time.sleep(args.every)
        if proc.poll() is not None:
            break
        samples.append(rss_mb(proc.pid))
        seen = "  ".join(f"viewer{i}: {v.frames} frames/{v.connects} connects" for i, v in enumerate(viewers))
        print(f"{time.time() - start:6.0f} s  RSS {samples[-1]:7.1f} MB  {last_stats}  {seen}", flush=True)
    if len(samples) >= 3:
        settled = samples[1:]
        print(f"RSS after warm-up: min {min(settled):.1f} MB, max {max(settled):.1f} MB, "
              f"growth {settled[-1] - settled[0]:+.1f} MB; last: {last_stats}")
    for viewer in viewers:
        viewer.stop.set()
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
