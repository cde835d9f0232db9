"""Entry point of `vault-init`: wait for Vault, log in, write the token and secrets, exit.

Exit status 0 means every file is written. Any other status is an `ExitCode`, and the
termination-message file then contains one line that states what failed and what to check.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import time
from collections.abc import Mapping

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode, InitError, scrub
from airflow_vault_provider.init.files import check_writable, write_atomic, write_termination_message
from airflow_vault_provider.init.login import load_credentials, login
from airflow_vault_provider.init.render import render_secret, render_token_info
from airflow_vault_provider.init.settings import Settings, load_settings, termination_log_path
from airflow_vault_provider.init.vault import Deadline, VaultClient
from airflow_vault_provider.init.vault_secrets import read_secret

log = logging.getLogger("airflow_vault_provider.init")


class _ScrubFilter(logging.Filter):
    """Remove registered sensitive values from every log record, as a last line of defence."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s vault-init %(levelname)s %(message)s"))
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger("airflow_vault_provider")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def run(settings: Settings, deadline: Deadline) -> None:
    """Do the program's work; raise `InitError` on the first failure."""
    # Local checks first: a broken volume or identity file must not cost a wrapping token.
    check_writable(settings.output_dir)
    credentials = load_credentials(settings)
    client = VaultClient(settings, deadline)

    client.wait_until_ready()
    token = login(client, settings, credentials)
    now = datetime.datetime.now(datetime.timezone.utc)
    log.info(
        "Logged in: token accessor %s, policies %s, TTL %d s",
        token.accessor,
        ",".join(token.policies) or "none",
        token.lease_duration,
    )

    write_atomic(settings.output_dir, settings.token_file, token.client_token.reveal().encode())
    write_atomic(
        settings.output_dir,
        contract.TOKEN_INFO_FILE_NAME,
        render_token_info(token, now, settings.auth_method, settings.auth_path),
    )
    log.info("Wrote %s and %s", settings.token_path, settings.output_dir / contract.TOKEN_INFO_FILE_NAME)

    for request in settings.secrets:
        data = read_secret(client, token.client_token.reveal(), request)
        path = write_atomic(settings.output_dir, request.file_name, render_secret(request, data))
        log.info("Wrote secret %s to %s (%s format)", request.path, path, request.format)


def main(environ: Mapping[str, str] | None = None) -> int:
    """Run the program with ``environ`` (the process environment by default); return the exit status."""
    started = time.monotonic()
    env = os.environ if environ is None else environ
    configure_logging()
    termination_log = termination_log_path(env)

    try:
        settings = load_settings(env)
        deadline = Deadline(settings.timeout_seconds)
        log.info(
            "Starting: Vault %s, %s auth at auth/%s, output %s, %d secret(s), deadline %g s",
            settings.vault_addr,
            settings.auth_method,
            settings.auth_path,
            settings.output_dir,
            len(settings.secrets),
            settings.timeout_seconds,
        )
        run(settings, deadline)
    except InitError as error:
        return _fail(termination_log, error.code, error.message)
    except Exception as error:
        # Only the exception's type and scrubbed text: a traceback could show local values.
        message = (
            f"Unexpected {error.__class__.__name__}: {scrub(str(error))}. "
            "This is a bug in vault-init: please report it with this message."
        )
        return _fail(termination_log, ExitCode.INTERNAL_ERROR, message)

    log.info("Done in %.2f s", time.monotonic() - started)
    return ExitCode.OK


def _fail(termination_log: str, code: ExitCode, message: str) -> int:
    log.error("%s (exit %d, %s)", message, code, code.name)
    if not write_termination_message(termination_log, message):
        log.warning("Could not write the termination message to %s (%s)", termination_log, contract.ENV_TERMINATION_LOG)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
