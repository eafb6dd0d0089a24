"""The NER gate and the rule that NER spans inside structured hits belong to them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from finetune_governance.scan.nergate import needs_ner
from finetune_governance.scan.rules import drop_inside_patterns


@pytest.mark.parametrize("text", [
    "My name is Maria Lopez.", "Thanks,\nMaria", "Maria Lopez here", "We moved to Paris last year.",
    "Could you add a Spanish language option?", "Hi Ólafur, thanks", "Regards, JOHNSON",
])
def test_gate_lets_names_through(text: str) -> None:
    assert needs_ner(text)


@pytest.mark.parametrize("text", [
    "", "I cannot log in to the VPN client since 6 am.", "Hello, the API returns error 500.",
    "Thanks for the quick help last week.", "My SSN is 123-45-6789.", "i'm locked out, i need help",
])
def test_gate_skips_text_without_name_like_words(text: str) -> None:
    assert not needs_ner(text)


def _r(kind: str, start: int, end: int):
    return SimpleNamespace(entity_type=kind, start=start, end=end, score=0.85)


def test_location_inside_street_address_dropped_but_not_inside_url() -> None:
    kept = drop_inside_patterns([_r("STREET_ADDRESS", 0, 16), _r("LOCATION", 5, 16), _r("LOCATION", 18, 29)])
    assert [(r.entity_type, r.start) for r in kept] == [("STREET_ADDRESS", 0), ("LOCATION", 18)]
    kept = drop_inside_patterns([_r("URL", 0, 40), _r("PERSON", 20, 30)])
    assert len(kept) == 2


@pytest.mark.parametrize("text", [
    "Hi team, My account was locked this morning.", "Hello,\nThe app crashes when I upload a file.",
    "Good afternoon, We cannot open any files.", "URGENT: Our invoices are missing.",
])
def test_gate_skips_capitalised_function_words_anywhere(text: str) -> None:
    assert not needs_ner(text)


@pytest.mark.parametrize("text", ["Thanks,\nWill", "Hi, May here from accounts.", "Hello, My name is Ngozi Cohen."])
def test_gate_keeps_name_like_stop_words_and_names(text: str) -> None:
    assert needs_ner(text)
