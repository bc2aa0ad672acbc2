"""Train several styles at once: one `stylecast train` process per job, all sharing one GPU.

One style at 256 px leaves a large GPU mostly idle (the step is bound by kernel launches), so
running the jobs side by side multiplies the styles per hour. Each line of the jobs file is one
job: a run name, then `stylecast train` options (``#`` starts a comment)::

    starry_night  --style paintings/starry_night.jpg --data photos --steps 6000
    great_wave    --style paintings/great_wave.png --data photos --width 16

    python scripts/train_many.py jobs.txt --runs runs --deadline-min 9

At the deadline every unfinished job gets Ctrl-C, so it saves its checkpoint and can go on
later with ``--resume``. A table of steps, speed and outcome is printed at the end.
"""
from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Job:
    name: str
    args: list[str]
    log: Path | None = None
    process: subprocess.Popen | None = None
    started: float = 0.0
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)


def read_jobs(path: Path) -> list[Job]:
    jobs = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0].startswith("-"):
            sys.exit(f"{path}:{number}: a job line starts with its run name, then the train options")
        jobs.append(Job(words[0], words[1:]))
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        sys.exit(f"{path}: run names repeat")
    return jobs


def last_step(log: Path) -> str:
    """The last progress count tqdm wrote (``1234/4000``), for the summary."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    for chunk in reversed(text.replace("\r", "\n").splitlines()):
        for word in chunk.split():
            if "/" in word and word.split("/")[0].isdigit():
                return word.rstrip("[|")
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", type=Path, help="jobs file: NAME then stylecast train options, one job a line")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="folder of run folders (default runs)")
    parser.add_argument("--deadline-min", type=float, default=None, help="Ctrl-C unfinished jobs after this many minutes")
    parser.add_argument("--resume", action="store_true", help="continue jobs whose run folder has a checkpoint")
    args = parser.parse_args()
    jobs = read_jobs(args.jobs)
    args.runs.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        out = args.runs / job.name
        command = [sys.executable, "-m", "stylecast", "train", "--out", str(out), *job.args]
        if args.resume and (out / "checkpoint.pt").exists():
            command.append("--resume")
        job.log = args.runs / f"{job.name}.log"
        job.started = time.perf_counter()
        with job.log.open("w") as log:
            job.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    print(f"started {len(jobs)} job(s); logs in {args.runs}/NAME.log", flush=True)
    deadline = time.perf_counter() + args.deadline_min * 60 if args.deadline_min else None
    interrupted = False
    while any(j.process.poll() is None for j in jobs):
        if deadline and time.perf_counter() > deadline and not interrupted:
            for job in jobs:
                if job.process.poll() is None:
                    job.process.send_signal(signal.SIGINT)
                    job.notes.append("stopped at deadline")
            interrupted = True
        for job in jobs:
            if job.process.poll() is not None and not job.ended:
                job.ended = time.perf_counter()
        time.sleep(1)
    print(f"{'run':28s} {'steps':>11s} {'wall s':>7s}  outcome")
    failed = 0
    for job in jobs:
        job.ended = job.ended or time.perf_counter()
        code = job.process.returncode
        outcome = "done" if code == 0 else f"exit {code}"
        failed += code != 0
        print(f"{job.name:28s} {last_step(job.log):>11s} {job.ended - job.started:7.0f}  {outcome} {' '.join(job.notes)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
