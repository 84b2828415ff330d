"""Discovery coaching per call, from the seller's side of the transcript (see ``coach.py``)."""

from analyzer.coaching.coach import AREAS, Coaching, coach

__all__ = ["AREAS", "Coaching", "coach"]
