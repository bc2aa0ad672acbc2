"""Soak test: run `stylecast live` from a looping file for a while and watch its memory.

    python benchmarks/soak_live.py --source /usr/share/doc/opencv-doc/examples/data/vtest.avi \
        --style cafe_terrace_fast --seconds 600

Prints resident memory every --every seconds and the live stats line; memory should stay flat.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--style", required=True)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--port", type=int, default=8777)
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "stylecast.cli", "live", "--source", args.source, "--loop", "-s", args.style,
           "--sink", "http", "--port", str(args.port), "--duration", str(args.seconds), "--stats"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    samples = []
    start = time.time()
    last_stats = ""
    import threading

    def read_stats() -> None:
        nonlocal last_stats
        for line in proc.stderr:
            if "fps" in line:
                last_stats = line.strip()

    threading.Thread(target=read_stats, daemon=True).start()
    while proc.poll() is None:
        time.sleep(args.every)
        if proc.poll() is not None:
            break
        samples.append(rss_mb(proc.pid))
        print(f"{time.time() - start:6.0f} s  RSS {samples[-1]:7.1f} MB  {last_stats}", flush=True)
    if len(samples) >= 3:
        settled = samples[1:]
        print(f"RSS after warm-up: min {min(settled):.1f} MB, max {max(settled):.1f} MB, "
              f"growth {settled[-1] - settled[0]:+.1f} MB; last: {last_stats}")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
