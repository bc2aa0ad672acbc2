"""The one exception users can cause; the CLI prints its message and exits 2."""


class StylecastError(Exception):
    """A problem with the user's input or environment, with a message that says what to do."""
