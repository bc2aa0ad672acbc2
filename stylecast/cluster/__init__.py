"""Stylize video files on a Ray cluster: each file split at keyframes into segments, the segments
painted by one actor per worker slot, encoded by the workers and joined by stream copy with the
original audio. ``stylecast video ... --ray local|auto|HOST:PORT``."""
