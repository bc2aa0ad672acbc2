"""Flicker: smoothing of painted frames over time, optical flow, and the warping error that measures it."""
