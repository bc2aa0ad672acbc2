"""A video painted in segments cut at its keyframes, each into a part file, then joined: what
makes a long job resumable on one machine and spreadable over a Ray cluster (``stylecast.cluster``)."""
