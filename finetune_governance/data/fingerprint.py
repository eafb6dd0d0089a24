"""Content hashes that let a reviewer recompute what the evidence claims."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_texts(texts: Iterable[str]) -> str:
    """Hex sha256 over texts, each UTF-8 encoded and NUL-terminated (order matters)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def sha256_tree(root: Path) -> str:
    """Hex sha256 over every file under ``root`` (relative path and content hash, sorted)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(root)).encode("utf-8") + b"\0")
        digest.update(sha256_file(file).encode("ascii"))
    return digest.hexdigest()
