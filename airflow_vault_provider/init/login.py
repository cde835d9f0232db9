"""Log in to Vault with the configured auth method and return the token and its facts."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

from airflow_vault_provider import contract
from airflow_vault_provider.init.errors import ExitCode, InitError, invalid_setting, register_sensitive
from airflow_vault_provider.init.settings import SensitiveText, Settings
from airflow_vault_provider.init.vault import VaultClient, VaultResponseError

log = logging.getLogger(__name__)

# Vault and OpenBao generate AppRole secret ids as UUIDs.
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Service tokens, which response-wrapping tokens are: `hvs.` (Vault 1.10+) or `s.` (OpenBao,
# older Vault), followed by base62 characters.
_SERVICE_TOKEN_RE = re.compile(r"^(hvs|s)\.[A-Za-z0-9]{20,}$")
_METHOD_HINTS = {
    "kubernetes": (
        "that the kubernetes auth method is enabled at that path, that the role exists and binds this pod's "
        "service account and namespace, and that the role's audience matches [vault_init] token_audience"
    ),
    "jwt": (
        "that the jwt auth method is enabled at that path, that the role exists, that its bound_audiences "
        "match [vault_init] token_audience, and that the method trusts the cluster's service-account issuer"
    ),
    "approle": (
        f"that the approle auth method is enabled at that path, that {contract.ENV_APPROLE_ROLE_ID} is the "
        "role id of an existing AppRole, and that the secret id in the Kubernetes Secret is current "
        "(not expired, used up or bound to other CIDRs)"
    ),
}


@dataclasses.dataclass(frozen=True)
class VaultToken:
    """A Vault token and the facts about it that the login response returns."""

    client_token: SensitiveText
    accessor: str
    policies: tuple[str, ...]
    token_policies: tuple[str, ...]
    lease_duration: int
    renewable: bool
    token_type: str
    entity_id: str


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Login credential, read from a file or the environment before any request to Vault."""

    # The service-account JWT for kubernetes and jwt, or the AppRole secret id or wrapping token.
    value: SensitiveText
    # The variable the value came from, for messages.
    source: str


def load_credentials(settings: Settings) -> Credentials:
    """Read the JWT or the AppRole secret id, so a missing file fails before any request."""
    if settings.auth_method != "approle":
        return Credentials(SensitiveText(_read_jwt(settings.jwt_file)), contract.ENV_JWT_FILE)
    if settings.approle_secret_id is not None:
        return Credentials(settings.approle_secret_id, contract.ENV_APPROLE_SECRET_ID)
    return Credentials(
        SensitiveText(_read_secret_id_file(settings.approle_secret_id_file)), contract.ENV_APPROLE_SECRET_ID_FILE
    )


def login(client: VaultClient, settings: Settings, credentials: Credentials) -> VaultToken:
    """Log in with the configured method, retrying while Vault is unavailable."""
    if settings.auth_method == "approle":
        secret_id = _approle_secret_id(client, settings, credentials)
        body = {"role_id": settings.approle_role_id, "secret_id": secret_id}
        subject = f"approle auth at auth/{settings.auth_path}"
    else:
        body = {"role": settings.role, "jwt": credentials.value.reveal()}
        subject = f"{settings.auth_method} auth at auth/{settings.auth_path}, role {settings.role}"

    log.info("Logging in with %s", subject)
    try:
        response = client.retrying(
            "logging in", lambda: client.request("POST", f"auth/{settings.auth_path}/login", body=body)
        )
    except VaultResponseError as error:
        raise InitError(
            ExitCode.LOGIN_DENIED,
            f"Login denied by Vault at {client.addr}: {subject}: {error.reason} (HTTP {error.status}). "
            f"Check {_METHOD_HINTS[settings.auth_method]}.",
        ) from None
    return _token_from(response, subject)


def is_wrapping_token(secret_id: str, wrapping: str) -> bool:
    """Return True when ``secret_id`` is a response-wrapping token rather than a plain secret id.

    ``wrapping`` is "wrapped" or "plain" when VAULT_INIT_APPROLE_SECRET_ID_WRAPPED is true or false.
    On "auto", a UUID (what
    Vault generates as a secret id) is plain, a service token (`hvs.` or `s.` and at least 20
    base62 characters) is a wrapping token, and any other value is a custom plain secret id.
    """
    if wrapping != "auto":
        return wrapping == "wrapped"
    if _UUID_RE.match(secret_id):
        return False
    return bool(_SERVICE_TOKEN_RE.match(secret_id))


def _read_jwt(path: str) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise invalid_setting(
            contract.ENV_JWT_FILE,
            f"cannot read the service-account token {path!r} ({error.strerror})",
            "Check the projected service-account token volume of vault-init.",
        ) from None
    if not token:
        raise invalid_setting(
            contract.ENV_JWT_FILE,
            f"the service-account token file {path!r} is empty",
            "Check the projected service-account token volume of vault-init.",
        )
    return register_sensitive(token)


def _approle_secret_id(client: VaultClient, settings: Settings, credentials: Credentials) -> str:
    secret_id = credentials.value.reveal()
    if not is_wrapping_token(secret_id, settings.approle_secret_id_wrapping):
        return secret_id
    log.info("The secret id in %s is a response-wrapping token: unwrapping it", credentials.source)
    return _unwrap_secret_id(client, settings, secret_id, credentials.source)


def _read_secret_id_file(path: str) -> str:
    try:
        secret_id = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise invalid_setting(
            contract.ENV_APPROLE_SECRET_ID_FILE,
            f"cannot read {path!r} ({error.strerror})",
            "Check that the file holding the AppRole secret id is mounted into vault-init.",
        ) from None
    if not secret_id:
        raise invalid_setting(
            contract.ENV_APPROLE_SECRET_ID_FILE,
            f"the file {path!r} is empty",
            "Put the AppRole secret id, or a response-wrapping token for one, into the file.",
        )
    return register_sensitive(secret_id)


def _unwrap_secret_id(client: VaultClient, settings: Settings, wrapping_token: str, source: str) -> str:
    """Check where the wrapping token comes from, then unwrap it into the secret id.

    The lookup does not use the token up. It rejects a token that some other request than
    AppRole's secret-id generation created, for example a substituted one. The unwrap call
    sends the wrapping token itself as the request token, and Vault accepts a token for one
    unwrap only.
    """
    register_sensitive(wrapping_token)
    invalid = (
        f"The response-wrapping token in {source} is invalid, expired or already used. A token that "
        "was already unwrapped may have been intercepted: revoke the AppRole secret ids issued around "
        "then, check Vault's audit log for the unwrap, and issue a new wrapped secret id."
    )
    try:
        lookup = client.retrying(
            "checking the wrapping token",
            lambda: client.request("POST", "sys/wrapping/lookup", body={"token": wrapping_token}),
        )
    except VaultResponseError as error:
        raise InitError(ExitCode.WRAPPING_TOKEN_INVALID, f"{invalid} Vault: {error.reason}.") from None

    creation_path = str((lookup.get("data") or {}).get("creation_path", ""))
    expected = re.compile(rf"^auth/{re.escape(settings.auth_path)}/role/[^/]+/(secret-id|custom-secret-id)$")
    if not expected.match(creation_path):
        raise InitError(
            ExitCode.WRAPPING_TOKEN_INVALID,
            f"The response-wrapping token in {source} was created by {creation_path or 'an unknown request'!r}, "
            f"not by generating a secret id of an AppRole at auth/{settings.auth_path}. Do not use it: it may "
            "have been substituted. Issue a new wrapped secret id for this AppRole.",
        )

    try:
        unwrapped = client.retrying(
            "unwrapping the secret id", lambda: client.request("POST", "sys/wrapping/unwrap", token=wrapping_token)
        )
    except VaultResponseError as error:
        raise InitError(ExitCode.WRAPPING_TOKEN_INVALID, f"{invalid} Vault: {error.reason}.") from None

    secret_id = (unwrapped.get("data") or {}).get("secret_id")
    if not isinstance(secret_id, str) or not secret_id:
        raise InitError(
            ExitCode.WRAPPING_TOKEN_INVALID,
            f"The response-wrapping token in {source} did not wrap an AppRole secret id. "
            "Wrap the response of auth/<mount>/role/<role>/secret-id.",
        )
    return register_sensitive(secret_id)


def _token_from(response: dict[str, Any], subject: str) -> VaultToken:
    auth = response.get("auth")
    if not isinstance(auth, dict) or not auth.get("client_token"):
        raise InitError(
            ExitCode.UNEXPECTED_RESPONSE,
            f"Vault accepted the login ({subject}) but returned no client token. Check that "
            f"{contract.ENV_VAULT_ADDR} points at Vault itself.",
        )
    return VaultToken(
        client_token=SensitiveText(str(auth["client_token"])),
        accessor=str(auth.get("accessor") or ""),
        policies=tuple(auth.get("policies") or ()),
        token_policies=tuple(auth.get("token_policies") or ()),
        lease_duration=int(auth.get("lease_duration") or 0),
        renewable=bool(auth.get("renewable")),
        token_type=str(auth.get("token_type") or ""),
        entity_id=str(auth.get("entity_id") or ""),
    )
