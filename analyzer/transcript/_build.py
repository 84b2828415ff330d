"""Raw cues to a ``Transcript``: merge, ids, sentences, roles, and the checks every format shares."""

from __future__ import annotations

from collections.abc import Sequence

from analyzer._errors import TranscriptError
from analyzer.transcript._raw import RawCue, RawDoc
from analyzer.transcript._roles import assign_roles
from analyzer.transcript._sentences import normalize_space, split_sentences
from analyzer.transcript.model import Sentence, Transcript, Turn

# What a speaker line looks like per format, for "no turns found" errors.
_SHAPES = {
    "plain": "lines like 'Name: text' or '[12:04] Name: text'",
    "markdown": "lines like '**Name:** text'",
    "docx": "paragraphs like 'Name: text'",
    "otter": "a 'Name  0:12' line followed by what they said",
    "vtt": "cues with '<v Name>' voice spans or 'Name: text'",
    "srt": "cues with 'Name: text'",
}


def build_transcript(
    raw: RawDoc,
    *,
    source: str,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
) -> Transcript:
    """Normalize a parsed file into a Transcript (see the model for the id scheme)."""
    cues: list[RawCue] = []
    for cue in raw.cues:
        text = normalize_space(cue.text)
        speaker = normalize_space(cue.speaker)
        if text and speaker:
            cue.text, cue.speaker = text, speaker
            cues.append(cue)
    if not cues:
        shape = _SHAPES.get(raw.format, "one entry per utterance with a speaker and text")
        raise TranscriptError(f"no speaker turns found; expected {shape} ({raw.format} format)", path=source, line=1)

    turns: list[Turn] = []
    first_cue: dict[str, RawCue] = {}
    pieces: list[list[str]] = []
    for cue in cues:
        first_cue.setdefault(cue.speaker, cue)
        if turns and turns[-1].speaker == cue.speaker:
            pieces[-1].append(cue.text)  # consecutive cues by one speaker are one turn
            last = turns[-1]
            last.end = cue.end if cue.end is not None else last.end
            continue
        n = len(turns) + 1
        turns.append(Turn(id=f"t{n}", index=n - 1, speaker=cue.speaker, start=cue.start, end=cue.end, text=""))
        pieces.append([cue.text])
    for turn, parts in zip(turns, pieces, strict=True):
        turn.text = " ".join(parts)
        turn.sentences = [Sentence(id=f"{turn.id}.{i}", text=s) for i, s in enumerate(split_sentences(turn.text), 1)]

    if len(first_cue) < 2:
        only = cues[0]
        raise TranscriptError(
            f"only one speaker ({only.speaker!r}) was found; expected a conversation between at least two speakers",
            path=source,
            line=only.line,
        )

    texts: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for turn in turns:
        texts.setdefault(turn.speaker, []).append(turn.text)
        counts[turn.speaker] = counts.get(turn.speaker, 0) + 1
    speakers, warnings = assign_roles(
        [(name, counts[name], " ".join(texts[name])) for name in texts],
        raw.people,
        raw.metadata,
        seller=seller,
        seller_domain=seller_domain,
    )
    roles = {s.name: s.role for s in speakers}
    for turn in turns:
        turn.role = roles[turn.speaker]
    return Transcript(
        source=source,
        format=raw.format,
        metadata=raw.metadata,
        speakers=speakers,
        turns=turns,
        warnings=warnings,
    )
