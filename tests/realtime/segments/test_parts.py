"""The parts a stopped --ray run leaves: reused by a run of the same settings, dropped otherwise."""
from __future__ import annotations

from stylecast.realtime.segments.parts import PartsFolder, parts_folder

SETTINGS = {"style": "cafe_terrace_rt", "crf": 0, "segments": [[0, 98, 0], [98, 154, 68]]}


def test_a_run_of_the_same_settings_goes_on_from_the_finished_parts(tmp_path):
    target = tmp_path / "film.mkv"
    notes: list[str] = []
    first = PartsFolder.open(target, SETTINGS, notes.append)
    assert notes == [] and first.done == set() and first.kept == 0
    first.part(1).write_bytes(b"painted")
    first.finished(1)
    first.part(0).write_bytes(b"half")  # renamed into place, but its worker's result never came back
    (first.path / ".part-00000.partial-7.mkv").write_bytes(b"half")

    again = PartsFolder.open(target, dict(SETTINGS), notes.append)
    assert notes == ["film.mkv: going on from the 1 of 2 segment(s) an earlier run painted"]
    assert again.done == {1} and again.kept == 1
    assert sorted(p.name for p in parts_folder(target).iterdir()) == ["manifest.json", "part-00001.mkv"]


def test_parts_painted_with_other_settings_are_dropped_with_a_note(tmp_path):
    target = tmp_path / "film.mkv"
    first = PartsFolder.open(target, SETTINGS)
    first.part(0).write_bytes(b"painted")
    first.finished(0)
    notes: list[str] = []
    other = PartsFolder.open(target, {**SETTINGS, "crf": 18}, notes.append)
    assert other.done == set() and other.kept == 0
    assert len(notes) == 1 and "1 part(s)" in notes[0] and "other settings" in notes[0]
    assert [p.name for p in other.path.iterdir()] == ["manifest.json"]


def test_a_listed_part_that_is_gone_is_painted_again(tmp_path):
    target = tmp_path / "film.mkv"
    first = PartsFolder.open(target, SETTINGS)
    first.part(0).write_bytes(b"painted")
    first.part(1).write_bytes(b"painted")
    first.finished(0)
    first.finished(1)
    first.part(0).unlink()
    again = PartsFolder.open(target, SETTINGS)
    assert again.done == {1}


def test_a_folder_without_a_manifest_is_cleared(tmp_path):
    target = tmp_path / "film.mkv"
    folder = parts_folder(target)
    folder.mkdir()
    (folder / "part-00000.mkv").write_bytes(b"from an older version")
    notes: list[str] = []
    parts = PartsFolder.open(target, SETTINGS, notes.append)
    assert notes == [] and parts.done == set()
    assert [p.name for p in folder.iterdir()] == ["manifest.json"]
    parts.remove()
    assert not folder.exists()
