"""Exit codes of the init program, and the error that carries one to the exit."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit status per kind of failure; each kind has its own row in docs/init-program.md."""

    OK = 0
    # Python's own status for an uncaught exception: a bug in this program.
    INTERNAL_ERROR = 1
    INVALID_SETTINGS = 10
    VAULT_UNAVAILABLE = 11
    LOGIN_DENIED = 12
    WRAPPING_TOKEN_INVALID = 13
    SECRET_UNAVAILABLE = 14
    SECRET_NOT_RENDERABLE = 15
    OUTPUT_NOT_WRITABLE = 16
    UNEXPECTED_RESPONSE = 17


class InitError(Exception):
    """A failure the program reports and exits on.

    The message is one line that states what failed, on which value and what to check. It
    must never contain a token, secret id, wrapping token or secret value: the message
    goes to stderr and to the pod's termination message.
    """

    def __init__(self, code: ExitCode, message: str) -> None:
        self.code = code
        self.message = scrub(" ".join(message.split()))
        super().__init__(self.message)


def invalid_setting(variable: str, problem: str, fix: str) -> InitError:
    """Return the error for an invalid or missing environment variable."""
    return InitError(ExitCode.INVALID_SETTINGS, f"Invalid setting {variable}: {problem}. {fix}")


# Values that must never reach a log line, an error message or the termination message.
# Every place that reads such a value (the JWT, the secret id, the wrapping token, the
# Vault token, secret values) registers it. `scrub` then removes it from outgoing text, as
# a second line of defence: messages are written never to include values at all.
_SENSITIVE: set[str] = set()
_REDACTED = "<redacted>"
# Shorter values are not registered: they could match ordinary words of a message.
_MIN_SENSITIVE_LENGTH = 4


def register_sensitive(value: str) -> str:
    """Remember ``value`` so `scrub` removes it from any later message, and return it."""
    if len(value) >= _MIN_SENSITIVE_LENGTH:
        _SENSITIVE.add(value)
    return value


def scrub(text: str) -> str:
    """Return ``text`` with every registered sensitive value replaced, longest first."""
    for value in sorted(_SENSITIVE, key=len, reverse=True):
        if value in text:
            text = text.replace(value, _REDACTED)
    return text
