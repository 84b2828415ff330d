"""Who sells and who buys: role assignment for every speaker, with how it was decided.

Each speaker gets ``role`` (seller / prospect) and ``role_source``, decided in this order:

1. **given** — the caller's hints. ``--seller NAME`` (repeatable) matches a speaker case-insensitively by
   full name or by first name ("dana" and "Dana Reyes" both match a speaker labelled "Dana", and "Dana"
   matches "Dana Reyes"). ``--seller-domain acme.com`` matches a speaker whose email, company, title or
   participants-header entry contains the domain or its company stem ("acme"), or who says they are from
   it ("I'm Dana from Acme", "here at Acme we..."). When a hint matched someone, every speaker that no
   hint matched and the export does not place is a prospect (also ``given``). A hint that matches
   nobody is reported in ``Transcript.warnings`` and the next steps decide.
2. **export** — the file says so: Gong ``affiliation`` (Internal = seller, External = prospect), a
   generic-JSON ``role``, a role in the speaker label (``John (seller)``, ``Rep:``, ``Customer:``,
   ``Dana (AE)``), or a participants/attendees header line whose entry carries a selling title
   (Account Executive, AE, Sales Rep/Engineer, SDR/BDR, Account Manager, Solutions Engineer) or a
   buying word (prospect, customer, client, buyer). Once one participant is placed on the selling side
   by title, the others listed with a different company (or with a non-selling title) are prospects,
   and those listed with the same company are sellers. "VP Sales" or "Sales Ops Manager" is a buyer's
   title, not a selling one: only the titles listed above count.
3. **assumed** — the documented heuristic over what each remaining speaker says. Seller cues: introducing
   themselves with a company ("I'm X from Acme"), talking about "our platform/product/pricing/
   implementation team", "we offer/provide/help", "let me show you", offering to send a proposal or
   quote, discovery questions ("what's your budget", "who else is involved"). Prospect cues: "your
   product/pricing/team", "how much does it cost", "our budget/current vendor/CFO", "my boss",
   "we're currently using/evaluating", "send me". Score = weighted seller cues − prospect cues. If no
   seller is known yet, the top scorer is the seller (with no cue at all: the first speaker, since the
   seller usually opens); any other speaker is a seller only with a clearly positive score (≥ 2);
   everyone else is a prospect. With 3+ speakers several can land on each side. Only the first ~8,000
   characters of each speaker are scanned (introductions and pitches come early).

``reason`` says in a few words which rule fired (e.g. "said 'our pricing', 'we offer'").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from analyzer.transcript._raw import PersonInfo
from analyzer.transcript.model import Role, RoleSource, Speaker

_SELLER_TITLE = re.compile(
    r"\b(?:account executive|ae|sales (?:rep(?:resentative)?|engineer|executive|development rep(?:resentative)?|"
    r"consultant|specialist)|sdr|bdr|solutions? (?:engineer|consultant|architect)|account manager|"
    r"customer success manager|csm|seller|salesperson|vendor)\b",
    re.IGNORECASE,
)
_BUYER_WORD = re.compile(r"\b(?:prospect|customer|client|buyer)\b", re.IGNORECASE)
_SELLER_LABELS = frozenset(
    {
        "seller",
        "sales",
        "sales rep",
        "rep",
        "ae",
        "account executive",
        "sdr",
        "bdr",
        "vendor",
        "salesperson",
        "sales engineer",
        "se",
        "account manager",
    }
)
_PROSPECT_LABELS = frozenset({"prospect", "customer", "client", "buyer", "lead"})

_Cue = tuple[re.Pattern[str], float]
_SELLER_CUES: tuple[_Cue, ...] = (
    (
        re.compile(
            r"\b(?:(?:i'm|i am|this is|my name is|it's)\s+[a-z]+(?:\s[a-z]+)?|(?:hi|hey|hello)\s+[a-z]+,\s+[a-z]+)"
            r"\s+(?:from|with|over at|here at)\s+(?!(?:you|us|me|it|that|this|them|the|a|my|your)\b)\w+"
        ),
        2.0,
    ),
    (
        re.compile(
            r"\bour (?:platform|product|solution|software|tool|app|pricing|price|plans?|packages?|tiers?|"
            r"implementation team|onboarding|support team|roadmap|integrations?|api|dashboard|customers see|"
            r"clients see|standard contract|proposal)\b"
        ),
        2.0,
    ),
    (
        re.compile(r"\bwe (?:offer|provide|help|specialize|integrate with|can set you up|typically see|work with)\b"),
        1.5,
    ),
    (re.compile(r"\b(?:i can|i'll|happy to) (?:follow up|send (?:you|over)|shoot you|set up a|put together a)"), 1.0),
    (re.compile(r"\b(?:value prop|use case|our customers|customers (?:use|love|see) (?:us|it))\b"), 1.0),
    (re.compile(r"\blet me (?:show|walk you through|share my screen|demo)\b"), 2.0),
    (
        re.compile(
            r"\bsend (?:you|over) (?:a|the|our) (?:proposal|quote|contract|order form|pricing|deck|case stud\w+)"
        ),
        2.0,
    ),
    (
        re.compile(
            r"\b(?:what's your budget|what is your budget|budget allocated|who else is involved|who else would be "
            r"involved|decision process|what's your timeline|what does your current|walk me through your|"
            r"tell me about your)\b"
        ),
        1.0,
    ),
)
_PROSPECT_CUES: tuple[_Cue, ...] = (
    (
        re.compile(
            r"\byour (?:platform|solution|software|tool|pricing|price|offering|proposal|quote|contract|demo|"
            r"implementation|support team|roadmap)\b"
        ),
        2.0,
    ),
    (re.compile(r"\b(?:how much (?:does|would|will|is) (?:it|this|that)|what (?:does|would) (?:it|this) cost)\b"), 2.0),
    (
        re.compile(
            r"\bour (?:budget|current vendor|current (?:tool|system|process|provider|crm)|vp|cfo|ceo|board|"
            r"procurement|legal team|it team|fiscal year)\b"
        ),
        1.5,
    ),
    (re.compile(r"\bmy (?:boss|manager|vp|cfo|ceo|director)\b"), 1.5),
    (re.compile(r"\b(?:we're|we are) (?:currently )?(?:using|evaluating|looking at|comparing)\b"), 1.5),
    (re.compile(r"\b(?:send me|can you send|just send)\b"), 1.5),
)


# The heuristic reads the first ~1,400 words (about ten minutes) of each speaker: introductions and
# pitches come early, and scanning a 3-hour call in full would cost more than the parse itself.
_HEURISTIC_CHARS = 8_000


@dataclass
class _Who:
    name: str
    order: int
    turns: int
    text: str
    info: PersonInfo = field(default_factory=PersonInfo)
    role: Role | None = None
    source: RoleSource = "assumed"
    reason: str = ""


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def name_matches(hint: str, speaker: str) -> bool:
    """Case-insensitive full-name or first-name match between a ``--seller`` hint and a speaker label."""
    h, s = " ".join(hint.lower().split()), " ".join(speaker.lower().split())
    if not h or not s:
        return False
    return h == s or (" " not in s and _first(h) == s) or (" " not in h and _first(s) == h)


def _label_role(text: str) -> Role | None:
    key = re.sub(r"[\s\d#]+$", "", text.strip().lower())
    if key in _SELLER_LABELS:
        return "seller"
    if key in _PROSPECT_LABELS:
        return "prospect"
    return None


def _split_entries(value: str) -> list[str]:
    out: list[str] = []
    for part in value.split(";"):
        depth, cur = 0, ""
        for ch in part:
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 0:
                out.append(cur)
                cur = ""
            else:
                cur += ch
        out.append(cur)
    return [e.strip(" -•*") for e in out if e.strip(" -•*")]


def _participants(metadata: dict[str, str]) -> list[tuple[str, str]]:
    """(name, descriptor) pairs from participants/attendees header fields."""
    pairs: list[tuple[str, str]] = []
    for key in ("participants", "attendees", "speakers"):
        for entry in _split_entries(metadata.get(key, "")):
            m = re.match(r"^(?P<name>[^(–—]+?)\s*(?:\((?P<d1>[^)]*)\)|\s[-–—]\s+(?P<d2>.+))?$", entry)
            if m is not None:
                pairs.append((m["name"].strip(), (m["d1"] or m["d2"] or "").strip()))
    return pairs


def _company(descriptor: str) -> str:
    if "," in descriptor:
        return descriptor.rsplit(",", 1)[1].strip().lower()
    m = _SELLER_TITLE.search(descriptor)
    if m is not None and m.start() > 0:  # "TribeAI Account Executive" -> "tribeai"
        return descriptor[: m.start()].strip().lower()
    at = re.search(r"\b(?:at|@)\s+(.+)$", descriptor)
    return at.group(1).strip().lower() if at else ""


def _header_roles(people: list[_Who], metadata: dict[str, str]) -> None:
    entries = _participants(metadata)
    if not entries:
        return
    placed: dict[str, tuple[Role | None, str, str]] = {}  # speaker -> (role, descriptor, company)
    for name, desc in entries:
        hits = [w for w in people if name_matches(name, w.name) or name_matches(w.name, name)]
        if len(hits) != 1 or not desc:
            continue
        role: Role | None = _label_role(desc)
        if role is None and _SELLER_TITLE.search(desc):
            role = "seller"
        elif role is None and _BUYER_WORD.search(desc):
            role = "prospect"
        placed[hits[0].name] = (role, desc, _company(desc))
        hits[0].info.descriptor = hits[0].info.descriptor or desc
        hits[0].info.company = hits[0].info.company or _company(desc)
    seller_companies = {c for r, _, c in placed.values() if r == "seller" and c}
    any_seller = any(r == "seller" for r, _, _ in placed.values())
    for w in people:
        if w.name not in placed or w.info.role is not None:
            continue
        role, desc, company = placed[w.name]
        if role is None and any_seller:
            role = "seller" if company and company in seller_companies else "prospect"
        if role is not None:
            w.info.role, w.info.reason = role, f"participants header: '{desc}'"


def _cue_hits(text: str, cues: Sequence[_Cue]) -> tuple[float, list[str]]:
    score, found = 0.0, list[str]()
    for pattern, weight in cues:
        hits = pattern.findall(text)
        if hits:
            score += weight * min(len(hits), 3)  # a phrase repeated ten times is not ten times the evidence
            found.extend(dict.fromkeys(h if isinstance(h, str) else h[0] for h in hits))
    return score, found


def _domain_match(w: _Who, domain: str) -> bool:
    domain = domain.lower().lstrip("@").strip()
    stem = domain.split(".")[0] if "." in domain else domain
    fields = " ".join([w.info.email, w.info.company, w.info.descriptor, w.name]).lower()
    if domain in fields or (stem and re.search(rf"\b{re.escape(stem)}\b", fields)):
        return True
    said = re.search(
        rf"\b(?:(?:i'm|i am|this is|my name is)\b[^.?!]{{0,40}}\b(?:from|with|at)|here at|at|we at)\s+"
        rf"{re.escape(stem)}\b(?:[^.?!]{{0,3}}\bwe\b)?",
        w.text,
    )
    if said is None:
        return False
    # "at Acme" alone is not enough unless it is a self-introduction or "at Acme we ..."
    return bool(re.match(r"(?:i'm|i am|this is|my name is|here at|we at)", said.group(0))) or said.group(0).endswith(
        "we"
    )


def assign_roles(
    speakers: list[tuple[str, int, str]],
    people: dict[str, PersonInfo],
    metadata: dict[str, str],
    *,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
) -> tuple[list[Speaker], list[str]]:
    """Decide roles for ``(name, turn count, all their text)`` in order of first appearance.

    Returns the speakers and warnings (hints that matched nobody)."""
    whos = [
        _Who(name=n, order=i, turns=k, text=t[:_HEURISTIC_CHARS].lower(), info=people.get(n, PersonInfo()))
        for i, (n, k, t) in enumerate(speakers)
    ]
    warnings: list[str] = []
    # Export-level facts: label words and parenthetical notes, then a participants header.
    for w in whos:
        if w.info.role is None:
            role = _label_role(w.name) or _label_role(w.info.descriptor)
            if role is not None:
                w.info.role, w.info.reason = role, f"speaker label '{w.info.descriptor or w.name}'"
            elif w.info.descriptor and _SELLER_TITLE.search(w.info.descriptor):
                w.info.role, w.info.reason = "seller", f"speaker label '{w.info.descriptor}'"
    _header_roles(whos, metadata)

    # 1. hints
    matched_any = False
    for hint in seller:
        hits = [w for w in whos if name_matches(hint, w.name)]
        if not hits:
            warnings.append(f"--seller {hint!r} matched no speaker")
        for w in hits:
            w.role, w.source, w.reason, matched_any = "seller", "given", f"--seller {hint}", True
    if seller_domain:
        hits = [w for w in whos if w.role is None and _domain_match(w, seller_domain)]
        if not hits and not any(w.role for w in whos):
            warnings.append(f"--seller-domain {seller_domain!r} matched no speaker")
        for w in hits:
            w.role, w.source, w.reason, matched_any = "seller", "given", f"--seller-domain {seller_domain}", True
    # 2. export
    for w in whos:
        if w.role is None and w.info.role is not None:
            w.role, w.source, w.reason = w.info.role, "export", w.info.reason
    if matched_any:
        for w in whos:
            if w.role is None:
                w.role, w.source, w.reason = "prospect", "given", "not matched by the seller hints"
    # 3. heuristic
    open_ = [w for w in whos if w.role is None]
    if open_:
        scored = []
        for w in open_:
            s_score, s_found = _cue_hits(w.text, _SELLER_CUES)
            p_score, p_found = _cue_hits(w.text, _PROSPECT_CUES)
            scored.append((s_score - p_score, s_score + p_score, w, s_found, p_found))
        have_seller = any(w.role == "seller" for w in whos)
        if not have_seller:
            best = max(scored, key=lambda x: (x[0], -x[2].order))
            total, w = best[1], best[2]
            if total == 0:
                best = min(scored, key=lambda x: x[2].order)
                w = best[2]
                reason = "no cue either way; the first speaker usually opens as the seller"
            else:
                reason = _why("seller", best[3], best[4])
            w.role, w.source, w.reason = "seller", "assumed", reason
        for net, _, w, s_found, p_found in scored:
            if w.role is not None:
                continue
            if net >= 2:
                w.role, w.source, w.reason = "seller", "assumed", _why("seller", s_found, p_found)
            else:
                w.role, w.source, w.reason = "prospect", "assumed", _why("prospect", s_found, p_found)
    return [
        Speaker(name=w.name, role=w.role or "unknown", role_source=w.source, reason=w.reason, turns=w.turns)
        for w in whos
    ], warnings


def _why(role: Role, s_found: list[str], p_found: list[str]) -> str:
    own = s_found if role == "seller" else p_found
    if own:
        return "said " + ", ".join(f"'{p}'" for p in own[:3])
    if role == "prospect" and not s_found:
        return "no seller cues; on the other side of the seller"
    return "fewer seller cues than the seller"
