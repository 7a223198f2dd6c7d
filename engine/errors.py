"""Errors caused by what the user gave us: their message is shown as is, in the CLI and in the app."""


class UserInputError(ValueError):
    """Bad user input. The message names the problem and how to fix it; no traceback is shown."""


class SynthesisCancelled(Exception):
    """A synthesis was stopped by its caller (the page's Stop button, an API cancel, Ctrl-C); not an error."""
