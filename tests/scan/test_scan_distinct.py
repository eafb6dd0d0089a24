"""Distinct-text counting for streamed scans: exact against a set, 8 bytes per distinct text."""

from __future__ import annotations

import random
import tracemalloc

from finetune_governance.scan import distinct
from finetune_governance.scan.distinct import DistinctTexts


def test_counts_what_a_set_counts_across_merges(monkeypatch):
    monkeypatch.setattr(distinct, "_PENDING", 50)  # merge often
    rng = random.Random(3)
    counter, seen = DistinctTexts(), set()
    for _ in range(40):
        chunk = [rng.choice(["", f"text {rng.randrange(700)}"]) for _ in range(37)]
        counter.add(chunk)
        seen.update(t for t in chunk if t)
        assert len(counter) == len(seen)
    assert len(DistinctTexts()) == 0


def test_memory_is_eight_bytes_per_distinct_text():
    n, chunk = 300_000, 10_000
    tracemalloc.start()
    try:
        counter = DistinctTexts()
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, n, chunk):
            counter.add([f"record {i} with some words" for i in range(start, start + chunk)])
        assert len(counter) == n
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 10 * n  # a set of Python ints holds more than 60 bytes per text
