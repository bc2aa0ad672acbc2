"""`python -m stylecast ...`: the same as the `stylecast` command."""
from stylecast.cli import run

run()
