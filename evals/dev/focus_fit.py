"""What the cue lexicon's pointing does: the 13 questions scored with the focus hint ("Look closely at
sentences ...") as shipped, against the same questions asked without it, on the development calls, without
the model.

    .venv/bin/python evals/dev/focus_fit.py FOCUSED_PROBE UNFOCUSED_PROBE --profiles DIR
        [--base evals/runs/dev-behaviours] [--write OUT_DIR VARIANT PROCEDURE]

FOCUSED_PROBE holds the questions and the shipped behaviours asked as the ``chunks`` strategy asks them
(``runs/dev-probe``); UNFOCUSED_PROBE the same asked with ``probe_questions.py --shipped --unfocused``.
Each call's score per question is rebuilt from the records as ``extractor.py`` computes it (calibrated
against the chunk's mean over the 13 questions, a question asked as behaviours scored by its best one, the
best chunk). ``--profiles`` is the folder ``fold_profiles.py`` wrote for the base run (the cut-offs each
call was scored with). Printed:

1. per question, the AUC of the call score against its label, focused and unfocused (no cut-off enters);
2. out-of-fold verdict figures (5 folds grouped by writer), each variant re-decided from the base run:
   - "as the fold profiles": the cut-offs of ethics, tire_kicker and fit fitted for F1 and of
     prospect_declined for verdict accuracy on the training folds, the other nine as shipped (what
     ``fold_profiles.py`` does);
   - "every cut-off fitted": all 13 fitted for F1 on the training folds;
   each with the cue bonus (a question whose lexicon matched in the call gets the profile's lower cut-off,
   the lexicon as a feature) and, unfocused, without it; and per question the better of focused (with the
   bonus) and unfocused (without), chosen by AUC on the training folds.

``--write OUT_DIR VARIANT PROCEDURE`` (VARIANT 0-3 in the order printed, PROCEDURE ``profile`` or ``all``)
writes that variant's per-fold profiles, as ``fold_profiles.py`` does (``foldK.yaml`` with the cut-offs
fitted without fold K, ``foldK.ids``; and ``all.yaml``, fitted on every call: what would ship), for
scoring the held-out calls through the real pipeline (``bash evals/dev/score.sh local OUT_DIR RUN``); a
variant without the cue bonus gets one cut-off per question, cue match or not.

The replay's limits are ``eval.folds.redecide``'s: a flag the run raised keeps its severity and quotes while
its new score passes; one that passes only now is medium with no quotes; a question that passed the run's
own cut-off but raised nothing (grounding found no prospect evidence) stays absent.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from devset import ROOT, cutoff_grid, has_label, label_auc, labelled_cases, probe_records
from probe_fit import call_scores

from analyzer.eval.folds import Cutoffs, make_folds, rejudge, run_folds
from analyzer.eval.metrics import RepeatMetrics
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag, CitedSignal
from analyzer.eval.tune import tune
from analyzer.extraction.prompts import load_prompts
from analyzer.taxonomy import CATEGORIES, FIXED_SEVERITY, SIGNALS

QUESTIONS = (*CATEGORIES, *SIGNALS)
PROFILE_FITS = {"ethics": "f1", "tire_kicker": "f1", "fit": "f1", "prospect_declined": "verdict"}


def run_cutoffs(folder: Path) -> dict[str, Cutoffs]:
    """Per case id, the cut-offs its fold's profile held when the base run scored it."""
    out: dict[str, Cutoffs] = {}
    for ids in sorted(folder.glob("fold*.ids")):
        profile = yaml.safe_load(ids.with_suffix(".yaml").read_text())
        cut = {q: (profile["thresholds"][q], profile["cue_thresholds"][q]) for q in QUESTIONS}
        out |= dict.fromkeys(ids.read_text().split(), cut)
    return out


class Variant:
    """One way of asking the 13 questions: the call scores, and the questions whose cut-off the lexicon lowers
    when it matched in the call (the focused ones, or none)."""

    def __init__(self, name: str, scores: dict[str, dict[str, float]], bonus_on: Sequence[str]) -> None:
        self.name = name
        self.scores = scores  # case id -> question -> call score
        self.bonus_on = set(bonus_on)

    @property
    def cue_bonus(self) -> bool:
        return bool(self.bonus_on)


def mixed(name: str, sources: dict[str, Variant], choice: dict[str, str]) -> Variant:
    """Each question from the variant ``choice`` names for it (with that variant's cue bonus)."""
    ids = next(iter(sources.values())).scores
    scores = {i: {q: sources[choice[q]].scores[i][q] for q in QUESTIONS} for i in ids}
    return Variant(name, scores, [q for q in QUESTIONS if q in sources[choice[q]].bonus_on])


def passes(score: float, cut: tuple[float, float], cued: bool) -> bool:
    return score >= (cut[1] if cued else cut[0])


def redecide(case: CaseResult, variant: Variant, cut: Cutoffs, ran: Cutoffs) -> CaseRun:
    """The base run of ``case`` re-decided with ``variant``'s scores and cut-offs ``cut``.

    Unlike ``eval.folds.redecide``, whether grounding dropped a question is read from the run's own scores
    and cut-offs (``ran``): that is a fact about the call's evidence, whichever scores decide now."""
    run = case.runs[0]
    cued = set(run.cue_hits) & variant.bonus_on
    raised = {f.category: f for f in run.flags}
    found = {s.signal: s for s in run.signals}
    flags: list[CitedFlag] = []
    signals: list[CitedSignal] = []
    for q in QUESTIONS:
        now = passes(variant.scores[case.id][q], cut[q], q in cued)
        before = passes(run.scores[q], ran[q], q in run.cue_hits)
        if not now:
            continue
        if q in CATEGORIES:
            if q in raised:
                flags.append(raised[q])
            elif not before:
                score = variant.scores[case.id][q]
                flags.append(CitedFlag(category=q, severity=FIXED_SEVERITY.get(q, "medium"), score=score))
        elif q in found:
            signals.append(found[q])
        elif not before:
            signals.append(CitedSignal(signal=q))
    return rejudge(case, run, flags, signals)


Learnt = tuple[Variant, Cutoffs]


def fitter(
    variant: Variant,
    ran: dict[str, Cutoffs],
    shipped: Cutoffs,
    bonus: float,
    which: str,
    refit: Sequence[str] = (),
) -> Callable[[Sequence[CaseResult]], Learnt]:
    """Fits cut-offs on training cases: the fold-profile procedure (and ``refit``, questions whose scores
    changed, for F1), or every question for F1."""
    b = bonus if variant.cue_bonus else 0.0

    def with_scores(c: CaseResult) -> CaseResult:
        run = c.runs[0]
        cues = [q for q in run.cue_hits if q in variant.bonus_on]
        new = run.model_copy(update={"scores": variant.scores[c.id], "cue_hits": cues})
        return c.model_copy(update={"runs": [new]})

    def fit(train: Sequence[CaseResult]) -> Learnt:
        cases = [with_scores(c) for c in train]
        rows = {r.name: (r.threshold, r.cue_threshold) for r in tune(cases, cue_bonus=b)}
        if which == "all":
            return variant, rows
        cut = {q: c if q in variant.bonus_on else (c[0], c[0]) for q, c in shipped.items()}
        cut |= {q: rows[q] for q, objective in PROFILE_FITS.items() if objective == "f1"}
        cut |= {q: rows[q] for q in refit if q not in PROFILE_FITS}
        for q, objective in PROFILE_FITS.items():
            if objective != "verdict":
                continue
            grid = cutoff_grid(variant.scores[c.id][q] for c in train)

            def right(t: float, q: str = q) -> tuple[int, float]:
                trial = {**cut, q: (t, t - b)}
                ok = sum(redecide(c, variant, trial, ran[c.id]).verdict == c.expected.verdict for c in train)
                return ok, t

            best = max(grid, key=right)
            cut[q] = (best, best - b)
        return variant, cut

    return fit


def write_profiles(out: Path, cases: list[CaseResult], fit: Callable[[Sequence[CaseResult]], Learnt]) -> None:
    """One profile per fold: the shipped one with every cut-off ``fit`` learns without that fold (and the
    questions it asks unfocused, which ``manifest.yaml`` must list)."""
    out.mkdir(parents=True, exist_ok=True)
    prompts = load_prompts()
    shipped = yaml.safe_load((ROOT / "prompts" / "profiles" / "embedded.yaml").read_text())
    folds = make_folds(cases, 5, seed=0)
    # foldK: fitted without fold K, for its held-out calls; all: fitted on every call, what would ship.
    for k, test in [*enumerate(folds), ("all", [])]:
        held = set(test)
        variant, cut = fit([c for i, c in enumerate(cases) if i not in held])
        name = f"fold{k}" if test else "all"
        profile = {**shipped, "name": name, "prompt_version": prompts.version_id}
        profile["tuned_on"] = f"suite dev, {len(cases) - len(test)} calls{f' outside fold {k}' if test else ''}"
        profile["tuned_on"] += f" ({variant.name})"
        profile["thresholds"] = {q: round(cut[q][0], 4) for q in QUESTIONS}
        profile["cue_thresholds"] = {q: round(cut[q][1 if q in variant.bonus_on else 0], 4) for q in QUESTIONS}
        (out / f"{name}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
        if test:
            (out / f"{name}.ids").write_text("".join(f"{cases[i].id}\n" for i in sorted(test)))
        print(f"{name}: {len(test)} held-out calls; " + ", ".join(f"{q} {cut[q][0]:.4f}" for q in QUESTIONS))
        print(f"  cue bonus on: {sorted(variant.bonus_on)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("focused")
    ap.add_argument("unfocused")
    ap.add_argument("--profiles", type=Path, required=True)
    ap.add_argument("--base", default="evals/runs/dev-behaviours")
    ap.add_argument("--write", nargs=3, metavar=("OUT_DIR", "VARIANT", "PROCEDURE"))
    args = ap.parse_args()
    prompts = load_prompts()
    floor = prompts.calibration_floor
    shipped = {q: (prompts.questions[q].threshold, prompts.questions[q].cue_threshold) for q in QUESTIONS}
    bonus = round(shipped["fit"][0] - shipped["fit"][1], 4)
    probes = {"focused": probe_records(args.focused), "unfocused": probe_records(args.unfocused)}
    cases = [c for c in labelled_cases(f"{args.base}/*") if all(c.id in p for p in probes.values())]
    ran = run_cutoffs(args.profiles)

    def keys(q: str) -> list[str]:
        behaviours = prompts.questions[q].behaviours
        return [f"{q}.{b}" for b in behaviours] if behaviours else [q]

    scores = {
        name: {
            c.id: {q: call_scores(p[c.id], q, keys(q), prompts.questions[q].calibrated, floor) for q in QUESTIONS}
            for c in cases
        }
        for name, p in probes.items()
    }
    drift = max(abs(scores["focused"][c.id][q] - c.runs[0].scores[q]) for c in cases for q in QUESTIONS)
    focus_share = {
        name: sum(bool(ch["focused"]) for r in p.values() for ch in r["chunks"])
        / sum(len(r["chunks"]) for r in p.values())
        for name, p in probes.items()
    }
    print(f"{len(cases)} calls; focused rebuilt vs recorded max diff {drift:.4f}; chunks with any focus hint: "
          + ", ".join(f"{n} {s:.2f}" for n, s in focus_share.items()))
    print(f"\n{'question':24} {'AUC focused':>12} {'unfocused':>10}  labelled")
    for q in QUESTIONS:
        row = [label_auc({i: s[q] for i, s in scores[name].items()}, cases, q) for name in probes]
        print(f"{q:24} {row[0]:12.3f} {row[1]:10.3f}  {sum(has_label(c, q) for c in cases)}")

    variants = [
        Variant("focused, cue bonus (shipped)", scores["focused"], QUESTIONS),
        Variant("unfocused, cue bonus", scores["unfocused"], QUESTIONS),
        Variant("unfocused, no cue bonus", scores["unfocused"], ()),
    ]
    sources = {"focused": variants[0], "unfocused": variants[2]}

    def auc_of(v: Variant, q: str, train: Sequence[CaseResult]) -> float:
        return label_auc({i: s[q] for i, s in v.scores.items()}, train, q)

    def learner(index: int, which: str) -> Callable[[Sequence[CaseResult]], Learnt]:
        """Variant ``index``'s fitter; index 3 is the per-question choice: each question focused or not,
        whichever had the better AUC on the training calls (ties: focused, as shipped); a question that
        switches has its cut-off refitted for F1 (in the profile procedure too)."""
        if index < 3:
            return fitter(variants[index], ran, shipped, bonus, which)

        def fit(train: Sequence[CaseResult]) -> Learnt:
            choice = {
                q: max(sources, key=lambda n: (auc_of(sources[n], q, train), n == "focused")) for q in QUESTIONS
            }
            v = mixed("per question", sources, choice)
            switched = [q for q in QUESTIONS if choice[q] == "unfocused"]
            return fitter(v, ran, shipped, bonus, which, switched)(train)

        return fit

    # The run re-judged by today's rules (ethics always high), against the replay with its own cut-offs.
    exact = sum(
        redecide(c, variants[0], ran[c.id], ran[c.id]).verdict
        == rejudge(c, c.runs[0], c.runs[0].flags, c.runs[0].signals).verdict
        for c in cases
    )
    print(f"\nreplay check: focused scores, the run's own cut-offs: the run's verdict on {exact} of {len(cases)}")
    if args.write:
        write_profiles(Path(args.write[0]), cases, learner(int(args.write[1]), args.write[2]))
        return
    names = [v.name for v in variants] + ["per question, better AUC on the training folds"]
    print(f"\n{'variant':48} {'procedure':10} verdict  macro F1  ethics  severity  evidence  per-category F1")
    for index, name in enumerate(names):
        for which in ("profile", "all"):
            m: RepeatMetrics = run_folds(
                cases, learner(index, which), lambda c, lt: redecide(c, lt[0], lt[1], ran[c.id]), k=5, seed=0,
                tuned=True,
            ).out_of_fold
            per = " ".join(f"{q[:4]} {m.categories[q].f1 or 0:.2f}" for q in CATEGORIES)
            print(
                f"{name:48} {which:10} {m.verdict_accuracy:.3f}    {m.macro_f1 or 0:.3f}   "
                f"{m.ethics_recall or 0:.3f}   {m.severity_accuracy or 0:.3f}     "
                f"{m.evidence_hit_rate or 0:.3f}     {per}"
            )


if __name__ == "__main__":
    main()
