"""Errors meant for users: printed as one line each by the CLI, never as a traceback."""


class UserError(Exception):
    """A mistake the user can fix; the message says what and how."""

    def lines(self) -> list[str]:
        return [str(self)]
