"""Open questions: for each qualification gap, which element is unknown and the question to ask next.

Gaps are the missing positive signals (need, budget, economic buyer, timeline, next step) and the medium
or high red flags that discovery can still resolve. The questions are written to be asked as they are,
in a conversation, without putting the prospect on the defensive.
"""

from __future__ import annotations

from analyzer.extraction.findings import Flag, SignalFinding
from analyzer.report.model import OpenQuestion
from analyzer.rules._icp import ICP
from analyzer.taxonomy import CATEGORIES, Category, Signal, Verdict

QUOTE_LIMIT = 140

# One row per qualification element, keyed by the positive signal whose absence is the gap.
SIGNAL_GAPS: dict[Signal, tuple[str, str, str]] = {
    "need_confirmed": (
        "need",
        "What happens if you don't solve this in the next six months, and who feels it most?",
        "No evidence yet that they need what we offer, in their own words.",
    ),
    "budget_confirmed": (
        "budget",
        "Has budget been set aside for this, and what range are you working with?",
        "No budget was confirmed on the call.",
    ),
    "decision_maker_engaged": (
        "economic buyer",
        "Who signs off on a purchase like this, and how can we bring them into the next conversation?",
        "The person who can say yes has not been part of the conversation.",
    ),
    "timeline_defined": (
        "timeline",
        "By when do you need this in place, and what is driving that date?",
        "No timeline or compelling event was named.",
    ),
    "next_step_agreed": (
        "next step",
        "Can we put the next conversation in the calendar now, with the people who need to be in it?",
        "The call ended without an agreed next step.",
    ),
}

# One row per red-flag category: the element it puts in doubt and the question that resolves it.
FLAG_GAPS: dict[Category, tuple[str, str]] = {
    "fit": ("fit", "Which of your requirements are must-haves on day one, and which could wait?"),
    "budget": (
        "budget",
        "If the numbers are tight, what would make the investment work: a phased start, a smaller scope, "
        "or a later start date?",
    ),
    "authority": (
        "economic buyer",
        "Beyond you, who weighs in on this decision, and what does each of them need to see?",
    ),
    "ethics": (
        "compliance",
        "How does your procurement and vendor-review process work, and who on your side reviews the agreement?",
    ),
    "engagement": (
        "commitment",
        "How important is solving this compared with everything else on your plate this quarter?",
    ),
    "relationship": (
        "expectations",
        "What would a successful first ninety days look like, and where have past vendors fallen short?",
    ),
    "tire_kicker": (
        "decision process",
        "Who else are you evaluating, and what would make you choose a partner rather than the lowest bid?",
    ),
}


def short_quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The quote cut at a word boundary to at most ``limit`` characters, with an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _flag_why(flag: Flag) -> str:
    why = f"{flag.category} flag ({flag.severity})"
    if flag.evidence:
        ev = flag.evidence[0]
        why += f': "{short_quote(ev.quote)}" ({ev.speaker}, {ev.turn_id})'
    elif flag.rationale:
        why += f": {flag.rationale}"
    return why


def open_questions(
    verdict: Verdict, flags: list[Flag], signals: list[SignalFinding], icp: ICP | None
) -> list[OpenQuestion]:
    """The questions to ask next, per gap, in a stable order (signal gaps first, then flags by
    category). A walk-away gets none: there is nothing left to qualify."""
    if verdict == "walk_away":
        return []
    present = {s.signal for s in signals}
    out: list[OpenQuestion] = []
    for signal, (element, question, why) in SIGNAL_GAPS.items():
        if signal not in present:
            out.append(OpenQuestion(element=element, question=question, why=why))
    # Flags arrive sorted; keep the most severe flag per category so one category gives one question.
    worst: dict[Category, Flag] = {}
    for flag in flags:
        if flag.severity == "low" or flag.category in worst:
            continue
        worst[flag.category] = flag
    for category in CATEGORIES:
        if category in worst:
            element, question = FLAG_GAPS[category]
            out.append(OpenQuestion(element=element, question=question, why=_flag_why(worst[category])))
    if icp is not None:
        out += _icp_questions(icp, present, worst)
    return out


def _icp_questions(icp: ICP, present: set[Signal], worst: dict[Category, Flag]) -> list[OpenQuestion]:
    """Profile checks: the must-haves while the need or fit is in doubt, the minimum deal size while
    the budget is."""
    out: list[OpenQuestion] = []
    if "need_confirmed" not in present or "fit" in worst:
        for req in icp.must_haves:
            out.append(
                OpenQuestion(
                    element="fit",
                    question=f'Our ideal customer meets this: "{req}". How does that look on your side?',
                    why="A must-have of the ideal-customer profile is not yet confirmed.",
                )
            )
    if icp.min_deal_size is not None and ("budget_confirmed" not in present or "budget" in worst):
        out.append(
            OpenQuestion(
                element="budget",
                question=f"Is an investment of at least {icp.deal_size_text()} in range for this project?",
                why="The deal must reach the profile's minimum size to be worth pursuing.",
            )
        )
    return out
