"""Atomic file writes into the output directory, and the termination message."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode, InitError

FILE_MODE = 0o440
# Kubernetes keeps at most 4096 bytes of a termination message.
_TERMINATION_MESSAGE_MAX_BYTES = 4096


def check_writable(directory: Path) -> None:
    """Fail unless a file can be created in ``directory``.

    The program checks this before logging in, so a broken volume never spends a
    single-use wrapping token.
    """
    if not directory.is_dir():
        raise _not_writable(directory, "it does not exist or is not a directory")
    try:
        descriptor, name = tempfile.mkstemp(dir=directory, prefix=".vault-init-check-")
    except OSError as error:
        raise _not_writable(directory, error.strerror or error.__class__.__name__) from None
    os.close(descriptor)
    os.unlink(name)


def write_atomic(directory: Path, file_name: str, content: bytes, mode: int = FILE_MODE) -> Path:
    """Write ``content`` to ``directory/file_name`` through a temporary file and a rename.

    A reader sees the old file or the new one, never a partial write. The temporary file
    lives in the same directory so the rename stays on one filesystem, and it gets its final
    mode before any byte is written.
    """
    target = directory / file_name
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{file_name}.", suffix=".tmp")
    except OSError as error:
        raise _not_writable(directory, error.strerror or error.__class__.__name__) from None

    try:
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise _not_writable(
            directory, f"writing {file_name} failed: {error.strerror or error.__class__.__name__}"
        ) from None

    _sync_directory(directory)
    return target


def write_termination_message(path: str, message: str) -> bool:
    """Write ``message`` as the single line of the termination-message file; return whether it worked."""
    encoded = " ".join(message.split()).encode()[: _TERMINATION_MESSAGE_MAX_BYTES - 1]
    line = encoded.decode("utf-8", "ignore").encode() + b"\n"
    try:
        with open(path, "wb") as stream:
            stream.write(line)
    except OSError:
        return False
    return True


def _sync_directory(directory: Path) -> None:
    # Persist the rename itself. Some filesystems refuse fsync on a directory; the write
    # has still happened then, so that is not an error.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _not_writable(directory: Path, problem: str) -> InitError:
    return InitError(
        ExitCode.OUTPUT_NOT_WRITABLE,
        f"Cannot write to the output directory {directory} ({contract.ENV_OUTPUT_DIR}): {problem}. Check that "
        "the vault-secrets volume is mounted there read-write, and that vault-init's user may write to it "
        "(runAsUser, fsGroup).",
    )
