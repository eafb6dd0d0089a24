"""Secrets and credentials (API keys, private keys, passwords, tokens) via detect-secrets.

Presidio finds personal data, not credentials. detect-secrets' plugins find provider keys
(AWS, GitHub, Slack, Stripe, OpenAI, ...), private key headers, JSON web tokens and
high-entropy strings; a plain-language rule adds "password: ..." as people type it in a
support message. Spans cover the whole token (a plugin may report only its prefix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SECRET_ENTITIES = ("PASSWORD", "PRIVATE_KEY", "SECRET_API_KEY", "SECRET_TOKEN")

_TYPE_TO_ENTITY = {
    "Private Key": "PRIVATE_KEY",
    "Secret Keyword": "PASSWORD",
    "Basic Auth Credentials": "PASSWORD",
    "JSON Web Token": "SECRET_TOKEN",
    "Base64 High Entropy String": "SECRET_TOKEN",
    "Hex High Entropy String": "SECRET_TOKEN",
}
#: plugins left out: Presidio's IP_ADDRESS covers public IPs
_SKIPPED_TYPES = frozenset({"Public IP (ipv4)"})

_PLAIN_PASSWORD = re.compile(
    r"(?i)\b(?:password|passwd|pwd|passcode|passphrase)\b(?:\s+is)?\s*[:=]?\s*[\"']?(?P<value>[^\s\"',;]{4,})"
)
#: a typed password has a digit or a symbol; "my password is wrong" has none
_NOT_A_WORD = re.compile(r"[^A-Za-z]")
_PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----|\Z)", re.S)
_TRAILING = ".,;:!?)]}\"'"
#: secret scores: detect-secrets gives none; its plugins are precise patterns
SECRET_SCORE = 0.9


@dataclass(frozen=True)
class SecretSpan:
    start: int
    end: int
    entity_type: str
    score: float = SECRET_SCORE


@lru_cache(maxsize=1)
def _plugins() -> tuple:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return tuple(cls() for kind, cls in get_mapping_from_secret_type_to_class().items() if kind not in _SKIPPED_TYPES)


def _token_around(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "\"'=:(":
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return start, end


def find_secrets(text: str, *, entities: frozenset[str] | set[str] = frozenset(SECRET_ENTITIES)) -> list[SecretSpan]:
    """Secret spans in ``text`` of the wanted entity types, without overlaps."""
    spans: list[SecretSpan] = []
    if "PRIVATE_KEY" in entities:
        spans += [SecretSpan(m.start(), m.end(), "PRIVATE_KEY") for m in _PRIVATE_KEY_BLOCK.finditer(text)]
    if "PASSWORD" in entities:
        for m in _PLAIN_PASSWORD.finditer(text):
            start, end = m.start("value"), m.end("value")
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
            if _NOT_A_WORD.search(text[start:end]):
                spans.append(SecretSpan(start, end, "PASSWORD"))
    for plugin in _plugins():
        entity = _TYPE_TO_ENTITY.get(plugin.secret_type, "SECRET_API_KEY")
        if entity not in entities:
            continue
        for value in set(plugin.analyze_string(text)):
            if not value or len(value) < 3:
                continue
            for match in re.finditer(re.escape(value), text):
                start, end = _token_around(text, match.start(), match.end())
                spans.append(SecretSpan(start, end, entity))
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[SecretSpan] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept
