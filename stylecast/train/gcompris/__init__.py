"""Offline training data from Debian's gcompris-qt-data: its Qt resource files (rcc.py), the paintings
its jigsaw activity cuts up (puzzles.py), and the extraction behind `stylecast data gcompris` (extract.py)."""
