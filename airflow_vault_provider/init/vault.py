"""Vault's HTTP API through the standard library, with retries bounded by one deadline.

The init program does not use hvac: importing hvac and requests costs more start-up time
and memory in every task pod than the few JSON calls it makes (see bench/init_vs_agent.py).
Nothing here reads VAULT_TOKEN, ~/.vault-token or any other ambient credential. Every
request carries exactly the token its caller passes, or none.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode, InitError, invalid_setting, scrub
from airflow_vault_provider.init.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

_BACKOFF_FIRST_SECONDS = 0.25
_BACKOFF_MAX_SECONDS = 5.0
# A standby without request forwarding redirects to the active node. Following a redirect
# would resend the token to another address, so the program retries this one instead.
_STANDBY_REDIRECTS = (307, 308)
# 412: a Vault Enterprise node has not yet seen a recent write (eventual consistency), which
# clears on a later attempt.
_RETRIED_CLIENT_ERRORS = (412, 429)
_HEALTH_STATES = {
    472: "a disaster-recovery secondary",
    501: "not initialized",
    503: "sealed",
}


class VaultResponseError(Exception):
    """An error status from Vault, with Vault's own ``errors`` messages."""

    def __init__(self, status: int, errors: list[str]) -> None:
        self.status = status
        self.errors = errors
        super().__init__(f"HTTP {status}: {self.reason}")

    @property
    def reason(self) -> str:
        return scrub("; ".join(self.errors)) or "no error message"

    @property
    def transient(self) -> bool:
        return self.status >= 500 or self.status in _RETRIED_CLIENT_ERRORS or self.status in _STANDBY_REDIRECTS


class VaultUnreachableError(Exception):
    """No HTTP response: refused, reset, timed out or unresolvable."""


class Deadline:
    """The program's overall deadline on the monotonic clock."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())


def backoff_delay(attempt: int, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Return the pause before retry ``attempt`` (1-based): exponential, capped, with jitter."""
    ceiling = min(_BACKOFF_MAX_SECONDS, _BACKOFF_FIRST_SECONDS * 2 ** (attempt - 1))
    return rng(ceiling / 2, ceiling)


class VaultClient:
    """A minimal Vault API client: JSON requests with an explicit token, and retries."""

    def __init__(self, settings: Settings, deadline: Deadline) -> None:
        self.addr = settings.vault_addr
        self.namespace = settings.namespace
        self._request_timeout = settings.request_timeout_seconds
        self._deadline = deadline
        self._opener = _build_opener(settings)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Mapping[str, Any] | None = None,
        namespaced: bool = True,
    ) -> dict[str, Any]:
        """Send one request to /v1/<path> and return the decoded JSON body ({} when empty).

        Raises `VaultResponseError` for an error status and `VaultUnreachableError` when no
        response arrives.
        """
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-Vault-Token"] = token
        if self.namespace and namespaced:
            headers["X-Vault-Namespace"] = self.namespace
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif method == "POST":
            data = b""

        # The address is checked to be http:// or https:// when the settings are loaded.
        request = urllib.request.Request(  # noqa: S310
            f"{self.addr}/v1/{path}", data=data, headers=headers, method=method
        )
        timeout = min(self._request_timeout, max(self._deadline.remaining(), 0.1))
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return _decode(response.read(), response.status)
        except urllib.error.HTTPError as error:
            raw = error.read()
            error.close()
            raise VaultResponseError(error.code, _error_messages(raw, error.code)) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, ssl.SSLError) and _is_tls_misconfiguration(error.reason):
                raise _tls_failure(self.addr, error.reason) from None
            raise VaultUnreachableError(_describe(error.reason)) from None
        except ssl.SSLError as error:
            if _is_tls_misconfiguration(error):
                raise _tls_failure(self.addr, error) from None
            raise VaultUnreachableError(_describe(error)) from None
        except (OSError, http.client.HTTPException) as error:
            raise VaultUnreachableError(_describe(error)) from None

    def retrying(self, action: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the deadline passes.

        Transport failures, 5xx, 412, 429 and standby redirects are retried with backoff.
        Any other error status is raised at once, because retrying cannot change the outcome.
        """
        number = 0
        while True:
            number += 1
            try:
                return attempt()
            except VaultResponseError as error:
                if not error.transient:
                    raise
                problem = _transient_problem(error)
            except VaultUnreachableError as error:
                problem = f"unreachable ({error})"

            remaining = self._deadline.remaining()
            if remaining <= 0:
                raise self.timed_out(action, problem)
            delay = min(backoff_delay(number), remaining)
            log.warning("%s: Vault at %s is %s; retry %d in %.1f s", action, self.addr, problem, number, delay)
            time.sleep(delay)

    def timed_out(self, action: str, problem: str) -> InitError:
        return InitError(
            ExitCode.VAULT_UNAVAILABLE,
            f"Timed out after {self._deadline.seconds:g} s ({contract.ENV_TIMEOUT_SECONDS}) while {action}: "
            f"Vault at {self.addr} is {problem}. Check that {contract.ENV_VAULT_ADDR} is Vault's address as "
            "seen from the pod, that DNS and network policies let the pod reach it, and that Vault is unsealed "
            "and has an active node.",
        )

    def wait_until_ready(self) -> None:
        """Poll sys/health until Vault is initialized, unsealed and serving requests."""

        def check() -> None:
            query = "sys/health?standbyok=true&perfstandbyok=true"
            try:
                self.request("GET", query, namespaced=False)
            except VaultResponseError as error:
                # sys/health returns its states as status codes with a JSON body, not as errors.
                if error.status in _HEALTH_STATES:
                    raise VaultResponseError(503, [_HEALTH_STATES[error.status]]) from None
                raise

        try:
            self.retrying("waiting for Vault", check)
        except VaultResponseError as error:
            raise InitError(
                ExitCode.UNEXPECTED_RESPONSE,
                f"{self.addr}/v1/sys/health returned HTTP {error.status} ({error.reason}), which Vault never "
                f"returns there. Check that {contract.ENV_VAULT_ADDR} points at Vault itself and not at a proxy "
                "or another service.",
            ) from None


def _transient_problem(error: VaultResponseError) -> str:
    if error.status in _STANDBY_REDIRECTS:
        return "a standby node that does not forward requests"
    if error.status == 503 and error.errors and error.errors[0] in _HEALTH_STATES.values():
        return error.errors[0]
    return f"returning HTTP {error.status} ({error.reason})"


def _decode(raw: bytes, status: int) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InitError(
            ExitCode.UNEXPECTED_RESPONSE,
            f"Vault returned HTTP {status} with a body that is not a JSON object. Check that "
            f"{contract.ENV_VAULT_ADDR} points at Vault itself and not at a proxy or another service.",
        )
    return data


def _error_messages(raw: bytes, status: int) -> list[str]:
    try:
        data = json.loads(raw)
    except ValueError:
        return [f"HTTP {status} with a non-JSON body"] if raw.strip() else []
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        return [str(message) for message in data["errors"]]
    return []


def _describe(reason: object) -> str:
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "no response within the request timeout"
    if isinstance(reason, OSError) and reason.strerror:
        return scrub(reason.strerror)
    return scrub(str(reason)) or reason.__class__.__name__


def _is_tls_misconfiguration(error: ssl.SSLError) -> bool:
    """Return whether a TLS error comes from the settings rather than the network, so retrying cannot help.

    An unexpected end of the connection during the handshake is left to the retries: a
    restarting Vault or a load balancer can cause it.
    """
    transient = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
    return not isinstance(error, transient)


def _tls_failure(addr: str, error: ssl.SSLError) -> InitError:
    if isinstance(error, ssl.SSLCertVerificationError):
        return InitError(
            ExitCode.VAULT_UNAVAILABLE,
            f"TLS verification of Vault at {addr} failed: {error.verify_message or error.reason}. Check "
            f"{contract.ENV_VAULT_CACERT} (the CA bundle, [vault_init] ca_cert_secret) and "
            f"{contract.ENV_TLS_SERVER_NAME} (a name in Vault's certificate).",
        )
    return InitError(
        ExitCode.VAULT_UNAVAILABLE,
        f"TLS handshake with Vault at {addr} failed: {error.reason or error.__class__.__name__}. Check that "
        f"{contract.ENV_VAULT_ADDR} starts with https:// only when Vault's listener serves TLS.",
    )


class _ServerNameContext(ssl.SSLContext):
    """An SSL context that verifies every connection against one fixed server name."""

    server_name = ""

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["server_hostname"] = self.server_name
        return super().wrap_socket(sock, *args, **kwargs)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Turn every redirect into an error response, so no token is sent to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _build_opener(settings: Settings) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
    if settings.vault_addr.startswith("https://"):
        handlers.append(urllib.request.HTTPSHandler(context=_tls_context(settings)))
    return urllib.request.build_opener(*handlers)


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context: ssl.SSLContext
    if settings.tls_server_name:
        context = _ServerNameContext(ssl.PROTOCOL_TLS_CLIENT)
        context.server_name = settings.tls_server_name  # type: ignore[attr-defined]
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2

    try:
        if settings.ca_cert:
            context.load_verify_locations(cafile=settings.ca_cert)
        else:
            context.load_default_certs()
    except (OSError, ssl.SSLError) as error:
        raise invalid_setting(
            contract.ENV_VAULT_CACERT,
            f"cannot load the CA bundle {settings.ca_cert!r} ({_describe(error)})",
            "Check that the file exists and holds PEM certificates ([vault_init] ca_cert_secret, key ca.crt).",
        ) from None
    return context
