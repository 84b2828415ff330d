"""Message drafts from deterministic templates: a door-open decline for ``walk_away``, a follow-up plan
for ``nurture``, a next-step note for ``pursue`` and a discovery request for ``qualify_further``.

The decline is grounded in the real reason (the category of the red flag that decided it). Only the
prospect's own statements of a constraint (fit, budget, timing) are ever quoted back; an ethics decline
is a firm, neutral no that repeats no accusation and quotes nothing.
"""

from __future__ import annotations

import re

from analyzer.extraction.findings import Flag, SignalFinding
from analyzer.report.model import MessageDraft, OpenQuestion, RuleHit
from analyzer.rules._icp import ICP
from analyzer.rules._questions import short_quote
from analyzer.taxonomy import Category, Verdict
from analyzer.transcript.model import Transcript

# When several high flags decide a walk-away, the decline speaks to the first of these: the reason the
# prospect can least argue with comes first, and ethics always wins so it is never softened into "fit".
DECLINE_ORDER: tuple[Category, ...] = (
    "ethics",
    "fit",
    "relationship",
    "tire_kicker",
    "budget",
    "authority",
    "engagement",
)

_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "twelve": 12}
_MONTHS = re.compile(r"\b(a|one|two|three|four|six|nine|twelve|\d{1,2})\s+months?\b", re.IGNORECASE)
_TIMING: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\bnext (fiscal|financial|calendar|budget) (year|cycle)\b|\bnext year\b", re.I), 180),
    (re.compile(r"\bnext quarter\b|\bq[1-4]\b|\bend of (the )?quarter\b", re.I), 90),
    (re.compile(r"\bnext month\b|\bfew weeks\b", re.I), 30),
)
DEFAULT_FOLLOW_UP_DAYS: dict[str, int] = {"prospect_declined": 90, "budget": 90, "engagement": 60}


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else ""


def _names(transcript: Transcript | None) -> tuple[str, str]:
    """(greeting, sign-off name) from the speakers; placeholders when roles are unknown."""
    prospect = seller = ""
    if transcript is not None:
        for sp in transcript.speakers:
            if sp.role == "prospect" and not prospect:
                prospect = sp.name
            elif sp.role == "seller" and not seller:
                seller = sp.name
    greeting = f"Hi {_first_name(prospect)}," if prospect else "Hello,"
    return greeting, seller or "[your name]"


def _quote_of(flags: list[Flag], category: Category) -> str:
    """The first prospect-side quote of a flag of this category, shortened, or ''."""
    for flag in flags:
        if flag.category == category:
            for ev in flag.evidence:
                if ev.role != "seller":
                    return short_quote(ev.quote, 120).rstrip(".!?,;: ")
    return ""


def _wrap(greeting: str, paragraphs: list[str], closing: str, seller: str) -> str:
    body = [greeting, "", *[p for part in paragraphs if part for p in (part, "")], closing, seller]
    return "\n".join(body)


def _days_phrase(days: int) -> str:
    if days % 30 == 0:
        months = days // 30
        return "a month" if months == 1 else f"{_spell(months)} months"
    if days % 7 == 0:
        weeks = days // 7
        return "a week" if weeks == 1 else f"{_spell(weeks)} weeks"
    return f"{days} days"


def _spell(n: int) -> str:
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 9: "nine", 12: "twelve"}
    return words.get(n, str(n))


def follow_up_days(quotes: list[str], default: int) -> int:
    """When to follow up: a timing the prospect named ('next quarter', 'in six months', 'next fiscal
    year') when one is in the evidence, else the default for the reason; always 30 to 365 days."""
    for quote in quotes:
        m = _MONTHS.search(quote)
        if m:
            word = m.group(1).lower()
            n = int(word) if word.isdigit() else _NUMBER_WORDS[word]
            return max(30, min(365, n * 30))
        for pattern, days in _TIMING:
            if pattern.search(quote):
                return days
    return default


def decline(
    primary: Category | None, flags: list[Flag], transcript: Transcript | None, icp: ICP | None
) -> MessageDraft:
    """A courteous decline grounded in ``primary``, the category that decided the walk-away."""
    greeting, seller = _names(transcript)
    if primary == "ethics":
        # Firm and neutral: no reason given, nothing quoted, no door held open for the same proposal.
        body = _wrap(
            greeting,
            [
                "Thank you for your time. After careful consideration, we have decided not to move forward "
                "with this opportunity, and we won't be submitting a proposal.",
                "I wish you and the team every success with the project.",
            ],
            "Regards,",
            seller,
        )
        return MessageDraft(kind="decline", subject="Our decision on the proposal", body=body)

    quote = _quote_of(flags, primary) if primary in ("fit", "budget") else ""
    focus = icp.focus_text() if icp is not None else ""
    paragraphs: list[str]
    subject = "Thank you, and an honest answer"
    if primary == "fit":
        grounding = (
            f'You mentioned that "{quote}".'
            if quote
            else "From what you described, what you need sits outside what we do."
        )
        paragraphs = [
            "Thank you for the time on our call and for being so open about what you need.",
            f"I've thought about it carefully, and I don't think we're the right fit today. {grounding} "
            "That isn't what our product is built to do well, and I would rather say so now than have you "
            "find out halfway through a project.",
            f"We do our best work with {focus}." if focus else "",
            "If your requirements change, I'd be glad to pick this up again, and if it helps, I'm happy to "
            "point you to a couple of options that may suit you better.",
        ]
    elif primary == "budget":
        grounding = f' (you mentioned that "{quote}")' if quote else ""
        paragraphs = [
            "Thank you for walking me through where things stand.",
            f"To be straightforward: given where the budget is today{grounding}, I don't see a way to make "
            "this work without cutting corners on what you would need from us, and I don't want to do that. "
            "So I'll step back for now rather than take up more of your time.",
            "If the budget picture changes, please reach out; I'd be glad to pick this back up.",
        ]
    elif primary == "relationship":
        paragraphs = [
            "Thank you for the candid conversation.",
            "Having thought about the scope and the way of working we discussed, I don't believe we'd "
            "be able to give you the experience you're looking for, and I'd rather be honest about that "
            "now than disappoint you later.",
            "If your priorities shift, the door stays open, and I'd be glad to talk again.",
        ]
    elif primary == "tire_kicker":
        paragraphs = [
            "Thank you for considering us.",
            "We've decided not to respond with a detailed specification and pricing breakdown at this stage: "
            "we put that work together with customers we are committed to building something with, and "
            "I don't think we're there yet.",
            "If you'd like to explore working together on that basis, I'd be very glad to talk.",
        ]
    elif primary == "authority":
        paragraphs = [
            "Thank you for the time you've given this.",
            "It sounds like the decision sits with people who haven't been part of the conversation yet, so "
            "I'll step back for now rather than press.",
            "If the people who own this decision would like to explore it, I'd be glad to set up a "
            "conversation with them.",
        ]
    elif primary == "engagement":
        paragraphs = [
            "Thank you for the time you've given this.",
            "It sounds like this isn't a priority right now, so I'll step back rather than keep following up.",
            "If that changes, I'd be glad to pick it up again; you know where to find me.",
        ]
    else:
        paragraphs = [
            "Thank you for your time and for the open conversation.",
            "After careful consideration, I don't think we're the right partner for this right now, and I'd "
            "rather tell you that plainly than keep you waiting.",
            "If things change on your side, the door stays open.",
        ]
    return MessageDraft(kind="decline", subject=subject, body=_wrap(greeting, paragraphs, "All the best,", seller))


def follow_up(
    decided: RuleHit, flags: list[Flag], signals: list[SignalFinding], transcript: Transcript | None
) -> MessageDraft:
    """A nurture plan: a warm reply now, and when to follow up with what."""
    greeting, seller = _names(transcript)
    declined = next((s for s in signals if s.signal == "prospect_declined"), None)
    budget_high = any(f.category == "budget" and f.severity == "high" for f in flags)
    engaged_low = any(f.category == "engagement" and f.severity == "high" for f in flags)
    quotes: list[str] = [e.quote for s in signals if s.signal == "prospect_declined" for e in s.evidence]
    quotes += [e.quote for f in flags if f.category in ("budget", "engagement") for e in f.evidence]

    if declined is not None:
        reason = "prospect_declined"
        topic = "a short, relevant case study and a check on whether their priorities or timing have changed"
        opening = (
            "Thanks for being clear about where things stand; I completely understand that now isn't the right time."
        )
    elif budget_high:
        reason = "budget"
        topic = "whether budget has opened up, with a phased option that fits a smaller first step"
        opening = "Thanks for being open about the budget; I understand it isn't there right now."
    elif engaged_low:
        reason = "engagement"
        topic = "one useful idea for their team, not a pitch, and whether this has moved up their list"
        opening = "Thanks for the conversation; I sense this isn't at the top of your list at the moment."
    else:
        reason = "prospect_declined"
        topic = "a check on whether their priorities or timing have changed"
        opening = "Thanks for the conversation and for being open about the timing."
    days = follow_up_days(quotes, DEFAULT_FOLLOW_UP_DAYS[reason])
    when = _days_phrase(days)
    body = _wrap(
        greeting,
        [
            opening,
            "I won't crowd your inbox. In the meantime, if it's useful, I'll send over a short example of "
            "how a team in a similar position approached this, no strings attached.",
            f"I'll check back in about {when} to see whether anything has changed. If it does sooner, I'm "
            "happy to pick things up whenever suits you.",
        ],
        "All the best,",
        seller,
    )
    return MessageDraft(
        kind="follow_up",
        subject="Thank you, and staying in touch",
        body=body,
        follow_up_days=days,
        follow_up_topic=topic,
    )


def next_step(
    signals: list[SignalFinding], questions: list[OpenQuestion], transcript: Transcript | None
) -> MessageDraft:
    """A recap for a qualified call, restating the agreed next step (or proposing one)."""
    greeting, seller = _names(transcript)
    agreed = next((s for s in signals if s.signal == "next_step_agreed" and s.evidence), None)
    if agreed is not None:
        step = f'As agreed, the next step is: "{short_quote(agreed.evidence[0].quote, 160)}"'
    else:
        step = (
            "As a next step, I'd suggest a working session with you and the decision makers to map out the "
            "rollout and the success criteria; could you suggest a couple of times that suit?"
        )
    paragraphs = [
        "Thank you for the time today. It was a really useful conversation, and I'm confident we can help.",
        step,
    ]
    if questions:
        paragraphs.append(
            "To make that session count, it would help to know:\n" + "\n".join(f"- {q.question}" for q in questions[:3])
        )
    return MessageDraft(
        kind="next_step",
        subject="Thank you, and next steps",
        body=_wrap(greeting, paragraphs, "Best regards,", seller),
    )


def discovery(questions: list[OpenQuestion], transcript: Transcript | None) -> MessageDraft:
    """A request for a short follow-up call that covers the most important open questions."""
    greeting, seller = _names(transcript)
    asks = questions[:3]
    paragraphs = [
        "Thank you for the conversation today.",
        "Before I put anything in front of you, I want to make sure I understand your situation properly, "
        "so a proposal fits rather than guesses.",
    ]
    if asks:
        paragraphs.append(
            "There are a few things I'd like to understand better:\n" + "\n".join(f"- {q.question}" for q in asks)
        )
    paragraphs.append(
        "Would a 30-minute call next week work to go through these? Feel free to bring anyone who should weigh in."
    )
    return MessageDraft(
        kind="discovery",
        subject="A few questions before we go further",
        body=_wrap(greeting, paragraphs, "Best regards,", seller),
    )


def draft(
    verdict: Verdict,
    decided: RuleHit,
    flags: list[Flag],
    signals: list[SignalFinding],
    questions: list[OpenQuestion],
    transcript: Transcript | None,
    icp: ICP | None,
) -> MessageDraft:
    """The message draft that goes with ``verdict``."""
    if verdict == "walk_away":
        return decline(primary_category(decided, flags), flags, transcript, icp)
    if verdict == "nurture":
        return follow_up(decided, flags, signals, transcript)
    if verdict == "pursue":
        return next_step(signals, questions, transcript)
    return discovery(questions, transcript)


def primary_category(decided: RuleHit, flags: list[Flag]) -> Category | None:
    """The category a decline speaks to: among the flags the deciding rule matched (else among all
    high flags), the first in DECLINE_ORDER. A high ethics flag always wins, whatever rule decided, so
    such a decline is never the 'fit' template with its quotes."""
    if any(f.category == "ethics" and f.severity == "high" for f in flags):
        return "ethics"
    matched = {label.split(":", 1)[0] for label in decided.matched if ":" in label}
    for category in DECLINE_ORDER:
        if category in matched:
            return category
    highs = {f.category for f in flags if f.severity == "high"}
    for category in DECLINE_ORDER:
        if category in highs:
            return category
    return None
