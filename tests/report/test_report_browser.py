"""audit.html in a real browser: headless Chromium renders it, the DOM holds the key elements, a
screenshot and an A4 PDF are saved under test-artifacts/."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-default-apps", "--mute-audio"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium not installed (Debian package 'chromium'; `make test` installs it when apt-get "
                "is available)")


def _browse(tmp_path: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={tmp_path / name}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_in_headless_chromium(real_run, tmp_path):
    url = (real_run / "audit.html").as_uri()
    dom = _browse(tmp_path, "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert re.search(r'<div class="verdict fail" data-verdict="fail">', page)
    assert re.findall(r'<section id="([a-z]+)">', page)[:2] == ["verdict", "matrix"]
    findings = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))["findings"]
    assert len(findings) >= 11  # GDPR's rules plus the test policy's
    assert len(re.findall(r'<tr data-rule="[^"]+" data-status=', page)) == len(findings)
    assert page.count("<svg") >= 2  # the epsilon curve and the per-group chart, parsed as SVG
    assert "<script" not in page.lower()  # no hostile string became an element
    assert 'data-group="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "audit-report.png"
    shot.unlink(missing_ok=True)
    result = _browse(tmp_path, "profile-shot", "--window-size=1100,2400", "--hide-scrollbars",
                     f"--screenshot={shot}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    pdf = ARTIFACTS / "audit-report.pdf"
    pdf.unlink(missing_ok=True)
    result = _browse(tmp_path, "profile-pdf", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # A4 is 595 x 842 points; the print CSS starts each evidence section on a new page
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45](?:\.\d+)? 84[12](?:\.\d+)?\s*\]", data)
    assert max(int(n) for n in re.findall(rb"/Count\s+(\d+)", data)) >= 8
