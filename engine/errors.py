"""Errors caused by what the user gave us: their message is shown as is, in the CLI and in the app."""


class UserInputError(ValueError):
    """Bad user input. The message names the problem and how to fix it; no traceback is shown."""
