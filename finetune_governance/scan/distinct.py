"""Count distinct texts of a stream in 8 bytes per distinct text."""

from __future__ import annotations

from typing import Iterable

import numpy as np

#: hashes held unmerged before they are sorted into the distinct set
_PENDING = 1 << 20


class DistinctTexts:
    """Distinct non-empty texts seen so far, kept as sorted 64-bit hashes (Python's ``hash``,
    stable within a process), not as texts: 8 bytes each instead of a Python set's ~60.
    Two distinct texts with the same 64-bit hash count once (about 1 in 10^7 for 10^6 texts)."""

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.int64)
        self._pending: list[np.ndarray] = []
        self._pending_count = 0

    def add(self, texts: Iterable[str]) -> None:
        hashes = np.fromiter((hash(t) for t in texts if t), dtype=np.int64)
        self._pending.append(hashes)
        self._pending_count += len(hashes)
        if self._pending_count >= max(_PENDING, len(self._seen)):
            self._merge()

    def _merge(self) -> None:
        if self._pending:
            self._seen = np.unique(np.concatenate([self._seen, *self._pending]))
            self._pending, self._pending_count = [], 0

    def __len__(self) -> int:
        self._merge()
        return int(len(self._seen))
