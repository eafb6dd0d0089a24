"""The run manifest: sha256 of every artifact, signed with Ed25519; and its verification.

``manifest.json`` lists every file of the run folder (but itself and the signature) with its
sha256; ``manifest.json.sig`` holds the base64 Ed25519 signature of the manifest's exact bytes.
An unsigned run still writes the manifest and says in it, and in the evidence, that it is unsigned.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..data.fingerprint import sha256_file
from ..errors import GovernanceError, UsageError
from ..evidence import SigningEvidence

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
ENV_KEY = "FTG_SIGNING_KEY"
MANIFEST_VERSION = 1
UNSIGNED_NOTE = f"unsigned: no signing key was given (--signing-key or {ENV_KEY}); the manifest detects " \
                "accidental changes only, not deliberate ones"

_key_var: ContextVar[tuple[Path, str] | None] = ContextVar("ftg_signing_key", default=None)


class VerificationError(GovernanceError):
    """A run folder does not match its manifest or signature."""

    exit_code = 1


@contextmanager
def signing_key(path: Path | None, source: str = "option") -> Iterator[None]:
    """Sign every run whose reports are written inside this block with the key at ``path``."""
    token = _key_var.set((Path(path), source) if path is not None else None)
    try:
        yield
    finally:
        _key_var.reset(token)


def resolve_key(explicit: Path | None = None) -> tuple[Path, str] | None:
    """The signing key path and where it came from: argument, ``signing_key`` block, environment."""
    if explicit is not None:
        return Path(explicit), "option"
    if _key_var.get() is not None:
        return _key_var.get()
    env = os.environ.get(ENV_KEY)
    return (Path(env), ENV_KEY) if env else None


def load_private_key(path: Path):
    """An Ed25519 private key from a PEM (PKCS#8 or OpenSSH) file or a raw 32-byte seed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"signing key {path}: not readable ({type(e).__name__})") from e
    if len(data) == 32:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise UsageError(f"signing key {path}: not an unencrypted PEM or OpenSSH private key, "
                         f"nor a raw 32-byte Ed25519 seed") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"signing key {path}: a {type(key).__name__}, expected an Ed25519 private key")
    return key


def _raw_public(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_evidence(resolved: tuple[Path, str] | None) -> tuple[SigningEvidence, object | None]:
    """What the evidence records about signing, and the loaded key (None when unsigned)."""
    if resolved is None:
        return SigningEvidence(signed=False, note=UNSIGNED_NOTE), None
    path, source = resolved
    key = load_private_key(path)
    raw = _raw_public(key)
    return SigningEvidence(
        signed=True, algorithm="Ed25519", public_key=raw.hex(), key_fingerprint=hashlib.sha256(raw).hexdigest(),
        key_source=source, note=f"manifest.json signed with Ed25519 key {hashlib.sha256(raw).hexdigest()[:16]} "
                                f"(from {source}); check with `governed-finetune verify`",
    ), key


def _artifact_files(run_dir: Path) -> list[str]:
    return sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")
                  if p.is_file() and p.relative_to(run_dir).as_posix() not in (MANIFEST, SIGNATURE))


def write_manifest(run_dir: Path, *, run_id: str, signing: SigningEvidence, key: object | None) -> Path:
    """Hash every file under ``run_dir`` into manifest.json and sign it when ``key`` is given."""
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "hash": "sha256",
        "signed": signing.signed,
        "algorithm": signing.algorithm,
        "public_key": signing.public_key,
        "note": signing.note,
        "files": {name: sha256_file(run_dir / name) for name in _artifact_files(run_dir)},
    }
    data = (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8")
    (run_dir / MANIFEST).write_bytes(data)
    if key is not None:
        (run_dir / SIGNATURE).write_text(base64.b64encode(key.sign(data)).decode("ascii") + "\n", encoding="ascii")
    return run_dir / MANIFEST


@dataclass(frozen=True)
class Verified:
    """A run folder that matches its manifest."""

    files: int
    signed: bool
    key_fingerprint: str | None
    pinned: bool


def _load_public_key(path: Path) -> bytes:
    """Raw Ed25519 public key bytes from a PEM/OpenSSH public key, 64 hex digits, or raw 32 bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"--public-key {path}: not readable ({type(e).__name__})") from e
    if len(data) == 32:
        return data
    text = data.strip()
    try:
        if len(text) == 64:
            return bytes.fromhex(text.decode("ascii"))
        key = (serialization.load_ssh_public_key(text) if text.startswith(b"ssh-")
               else serialization.load_pem_public_key(text))
    except (ValueError, UnicodeDecodeError, TypeError) as e:
        raise UsageError(f"--public-key {path}: not an Ed25519 public key (PEM, OpenSSH, hex or raw)") from e
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"--public-key {path}: a {type(key).__name__}, expected an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _recorded_signing(run_dir: Path) -> dict:
    """audit.json's signing block ({} when audit.json is missing or unreadable: the file check reports it)."""
    try:
        signing = json.loads((run_dir / "audit.json").read_text(encoding="utf-8")).get("signing")
    except (OSError, ValueError, AttributeError):
        return {}
    return signing if isinstance(signing, dict) else {}


def verify_run(run_dir: Path, *, public_key: Path | None = None, require_signature: bool = False) -> Verified:
    """Check the signature, then every file against the manifest; raise naming the first problem."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: not a run folder")
    manifest_path = run_dir / MANIFEST
    try:
        data = manifest_path.read_bytes()
        manifest = json.loads(data)
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files")
    except FileNotFoundError as e:
        raise VerificationError(f"{manifest_path}: missing; this run folder has no manifest to verify") from e
    except (ValueError, KeyError, TypeError) as e:
        raise VerificationError(f"{manifest_path}: altered (not a readable manifest)") from e
    pinned = _load_public_key(public_key) if public_key is not None else None
    signed = bool(manifest.get("signed"))
    recorded = _recorded_signing(run_dir)
    if recorded.get("signed") is True and not (signed and (run_dir / SIGNATURE).exists()):
        raise VerificationError(f"{run_dir / SIGNATURE}: missing; audit.json records a run signed with key "
                                f"{str(recorded.get('key_fingerprint') or '?')[:16]}, but "
                                f"{'the signature file is gone' if signed else 'manifest.json is unsigned'}: "
                                f"the signature was removed")
    fingerprint = None
    if signed or (run_dir / SIGNATURE).exists() or pinned is not None or require_signature:
        try:
            raw = bytes.fromhex(str(manifest.get("public_key") or ""))
            stored = (run_dir / SIGNATURE).read_bytes()
            try:
                signature = base64.b64decode(stored[:-1], validate=True)
            except ValueError:
                signature = b""
            if len(signature) != 64 or stored != base64.b64encode(signature) + b"\n":  # exact bytes only
                raise VerificationError(f"{run_dir / SIGNATURE}: altered (not the 64-byte signature written)")
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
        except FileNotFoundError as e:
            raise VerificationError(f"{run_dir / SIGNATURE}: missing; " + (
                "the manifest says it is signed" if signed else "the manifest is not signed")) from e
        except (ValueError, InvalidSignature) as e:
            raise VerificationError(f"{manifest_path}: altered (the Ed25519 signature in {SIGNATURE} does not "
                                    f"match it)") from e
        if pinned is not None and raw != pinned:
            raise VerificationError(f"{manifest_path}: signed by key {hashlib.sha256(raw).hexdigest()[:16]}, "
                                    f"not by the --public-key given ({hashlib.sha256(pinned).hexdigest()[:16]})")
        signed, fingerprint = True, hashlib.sha256(raw).hexdigest()
    present = set(_artifact_files(run_dir))
    for name in sorted(files):
        path = run_dir / name
        if name not in present:
            raise VerificationError(f"{path}: missing (listed in the manifest)")
        if sha256_file(path) != files[name]:
            raise VerificationError(f"{path}: altered (sha256 differs from the manifest)")
    extra = sorted(present - set(files))
    if extra:
        raise VerificationError(f"{run_dir / extra[0]}: not in the manifest (added after the run)")
    return Verified(files=len(files), signed=signed, key_fingerprint=fingerprint, pinned=pinned is not None)
