"""Where each output goes, decided before any work: shared by `stylecast image` and `stylecast video`."""
from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from stylecast.errors import StylecastError


def expand_folders(inputs: Sequence[Path], suffixes: Collection[str], kind: str) -> tuple[list[Path], bool]:
    """Inputs with each folder among them replaced by its ``suffixes`` files (sorted, not recursive),
    and whether a folder was given (its outputs then go to a folder whatever their number)."""
    files: list[Path] = []
    folder_given = False
    for src in inputs:
        if not src.is_dir():
            files.append(src)
            continue
        folder_given = True
        inside = sorted(p for p in src.iterdir() if p.suffix.lower() in suffixes and p.is_file())
        if not inside:
            raise StylecastError(f"no {kind} files in {src} (looked for {', '.join(sorted(suffixes))})")
        files.extend(inside)
    return files, folder_given


def names_a_folder(output: Path | str) -> bool:
    """An existing folder, or a name typed with a trailing separator (``Path()`` drops it, so ask of
    the text as typed)."""
    return str(output).endswith(("/", os.sep)) or Path(output).is_dir()


def plan_targets(inputs: Sequence[Path], output: Path | str, name_in_folder: Callable[[Path], str],
                 check_file_output: Callable[[Path], None], overwrite: bool, to_folder: bool = False,
                 skip_existing: bool = False) -> list[tuple[Path, Path]]:
    """(source, target) pairs. Several inputs, an existing folder or a trailing separator make ``output``
    a folder whose files are named by ``name_in_folder``; otherwise ``output`` is the one target file.
    Inputs are never overwritten, and existing outputs only with ``overwrite``; with ``skip_existing``
    their inputs are left out (what an interrupted batch finished stays as it is)."""
    if not inputs:
        raise StylecastError("no inputs given")
    for src in inputs:
        if not src.is_file():
            raise StylecastError(f"input not found: {src}")
    several = len(inputs) > 1
    folder_named = names_a_folder(output)
    output = Path(output)
    unique: dict[Path, Path] = {}
    for src in inputs:  # a file named twice (a.jpg and ./a.jpg, or in a folder given too) is painted once
        unique.setdefault(src.resolve(), src)
    inputs = list(unique.values())
    if to_folder or several or folder_named:
        if output.exists() and not output.is_dir():
            raise StylecastError(f"{output} is a file; with several inputs -o must be a folder")
        jobs = [(src, output / name_in_folder(src)) for src in inputs]
    else:
        check_file_output(output)
        jobs = [(inputs[0], output)]
    sources = {src.resolve() for src in inputs}
    seen: dict[Path, Path] = {}
    todo = []
    for src, target in jobs:
        other = seen.setdefault(target.resolve(), src)
        if other != src:  # a/p.png and b/p.png into one folder: one would replace the other
            raise StylecastError(f"{other} and {src} would both be written to {target}: rename one, or run them "
                                 f"with different -o folders")
        if target.resolve() in sources:
            raise StylecastError(f"output {target} is one of the inputs; stylecast never overwrites an input")
        if target.exists() and not overwrite:
            if skip_existing:
                continue
            raise StylecastError(f"{target} exists: add --overwrite to replace it, or --skip-existing to paint only "
                                 f"what is missing")
        todo.append((src, target))
    return todo


def ensure_writable(folder: Path) -> None:
    """Make ``folder`` if needed and write a probe file there: a read-only mount or a full disk is
    said now, in one line, not found out by the encoder mid-run (root passes every access check)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StylecastError(f"cannot create output folder {folder}: {e.strerror}") from e
    probe = folder / f".stylecast-write-probe-{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise StylecastError(f"cannot write in {folder}: {e.strerror}") from e
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:  # a read-only mount refuses even to remove what is not there
            pass


@contextmanager
def writable_folders(folders: Iterable[Path]) -> Iterator[None]:
    """``ensure_writable`` for each folder; those made here (parents included) that are still empty
    when the block ends, refused, stopped or with nothing written, are removed again."""
    folders = [Path(f) for f in folders]
    made: set[Path] = set()
    for folder in folders:
        missing = folder
        while not missing.exists() and missing != missing.parent:
            made.add(missing)
            missing = missing.parent
    try:
        for folder in folders:
            ensure_writable(folder)
        yield
    finally:
        for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):  # deepest first
            try:
                folder.rmdir()  # only where empty: anything written stays
            except OSError:
                pass
