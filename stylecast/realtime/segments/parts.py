"""A file's painted segments, kept beside its output until they are joined: a run stopped on the
way (Ctrl-C, a lost driver, a full disk) leaves them, and the same command goes on from them."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.segments.plan import Segment
from stylecast.styles.mixes import parse_style

if TYPE_CHECKING:
    from stylecast.realtime.video import VideoConfig

MANIFEST = "manifest.json"


def parts_folder(target: Path) -> Path:
    return target.with_name(f".{target.name}.stylecast-parts")


def painting_settings(source: Path, config: VideoConfig, segments: list[Segment]) -> dict:
    """What a part is painted from and with: a later run reuses parts only where all of it is the same."""
    def identity(path: Path) -> list:
        stat = path.stat()
        return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]

    run = config.run
    return {"source": identity(source), "model": identity(parse_style(run.style).model), "style": run.style,
            "backend": run.backend, "max_side": run.max_side, "stroke_scale": run.stroke_scale, "paint": run.paint,
            "codec": config.codec, "crf": config.crf, "smooth": config.smooth,
            "segments": [[s.start, s.end, s.preroll] for s in segments]}


@dataclass
class PartsFolder:
    """The parts of one output and which of them are finished, recorded in a manifest with the
    settings they were painted with."""

    path: Path
    target: Path
    settings: dict
    done: set[int] = field(default_factory=set)
    kept: int = 0  # parts finished by an earlier run

    @classmethod
    def open(cls, target: Path, settings: dict, tell: Callable[[str], None] = lambda note: None) -> PartsFolder:
        """``target``'s parts folder with what an earlier run of the same settings finished; ``tell``
        hears how many parts that is, or that an earlier run's parts were dropped because it
        painted with other settings."""
        settings = json.loads(json.dumps(settings))  # as the manifest gives it back
        folder = cls(parts_folder(target), target, settings)
        earlier = folder._read()
        note = None
        if earlier is not None and earlier.get("settings") == settings:
            folder.done = {n for n in earlier.get("done", []) if isinstance(n, int) and folder.part(n).is_file()}
            folder.kept = len(folder.done)
        else:
            if earlier is not None and earlier.get("done"):
                note = (f"the {len(earlier['done'])} part(s) an earlier run left in {folder.path} were painted with "
                        f"other settings (style, size, smoothing, codec or the input changed): painting it all again")
            shutil.rmtree(folder.path, ignore_errors=True)  # also a folder of a version without manifests
        folder.path.mkdir(exist_ok=True)
        folder._tidy()
        folder._save()
        for line in (note, folder._going_on(len(settings["segments"]))):
            if line:
                tell(line)
        return folder

    def part(self, number: int) -> Path:
        return self.path / f"part-{number:05d}{self.target.suffix}"

    def finished(self, number: int) -> None:
        self.done.add(number)
        self._save()

    def _going_on(self, total: int) -> str | None:
        """What a run that reuses an earlier run's parts says before it starts."""
        if not self.kept:
            return None
        return f"{self.target.name}: going on from the {self.kept} of {total} segment(s) an earlier run painted"

    def leave(self, joined: bool, source: Path, total: int) -> str | None:
        """At the end of a run: the folder removed where its output is joined or nothing was
        painted, else kept for the next run, and a note that says so."""
        if joined or not self.done:
            self.remove()
            return None
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        # a film's parts run to gigabytes in a hidden folder: say what deleting it gives up and frees
        return (f"{len(self.done)} of {total} segment(s) of {source.name} are painted and kept in {self.path} "
                f"({size / 1e6:.0f} MB): running it again goes on from there; deleting it starts over")

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def _read(self) -> dict | None:
        try:
            manifest = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return manifest if isinstance(manifest, dict) else None

    def _tidy(self) -> None:
        """Only finished parts and the manifest stay: a worker killed mid-part leaves its temporary file."""
        keep = {self.part(n).name for n in self.done} | {MANIFEST}
        for entry in self.path.iterdir():
            if entry.name in keep:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def _save(self) -> None:
        try:
            with atomic_path(self.path / MANIFEST) as tmp:
                tmp.write_text(json.dumps({"settings": self.settings, "done": sorted(self.done)}))
        except OSError as e:
            raise StylecastError(f"could not write {self.path / MANIFEST}: {e.strerror or e}") from e
