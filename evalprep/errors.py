"""The one error class for inputs a run cannot start with (bad arguments, a missing inbox, bad reference data).

Its message is ONE line, in Chinese, naming the argument, file or key and saying what to do; the CLI prints it
and exits with status 2, and the flows raise the same class when called directly (deployments). Importing this
module imports nothing else, so the CLI can check its inputs before Prefect, pandas or the flows load."""
from __future__ import annotations


class InputError(ValueError):
    """A run cannot start with these inputs; str(error) is the one-line reason."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split("\n")))


class MissingInputError(InputError, FileNotFoundError):
    """A named input (inbox, week folder, reference folder or file) does not exist."""

    def __init__(self, message: str) -> None:  # FileNotFoundError's own __init__ would take (errno, strerror)
        InputError.__init__(self, message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
