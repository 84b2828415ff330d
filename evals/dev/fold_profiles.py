"""Writes one model profile per fold of the development set, for scoring every held-out writer through the
real pipeline (evidence and severity asked by the model) with cut-offs fitted on the other writers only.

    .venv/bin/python evals/dev/fold_profiles.py OUT_DIR [--probe evals/runs/dev-probe]
        [--base evals/runs/dev-ethics-oof] [--fit TARGET OBJECTIVE ...]

The folds are the base run's (5 folds grouped by writer, ``analyzer/eval/folds.py``). Each fold's profile is
the shipped one (``prompts/profiles/embedded.yaml``) with:
- the ethics cut-offs the base run was scored with in that fold (fitted out-of-fold when it was run);
- for every ``--fit TARGET OBJECTIVE`` (default: prospect_declined verdict, tire_kicker f1, fit f1), the
  target asked as the OR of the behaviours the manifest lists for it, its cut-off fitted on the training
  folds from the recorded probe (``probe_fit.py``: best F1 with the profile's cue bonus, or best verdict
  accuracy), never on the fold it scores.
Also written: ``foldK.ids`` (the held-out case ids, one per line), which ``score.sh local DIR RUN`` reads. Printed
last: each target's cut-offs fitted the same way on all the calls, which is what the shipped profile takes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from devset import ROOT, labelled_cases, probe_records
from probe_fit import Target, call_scores

from analyzer.eval.folds import make_folds
from analyzer.extraction.prompts import load_prompts

# The ethics cut-offs (without, with a cue) each fold of runs/dev-ethics-oof was scored with: fitted on the
# other writers' calls of runs/dev-local when that run was made (evals/README.md); recorded here because
# the profiles themselves were not kept.
ETHICS_RUN = {
    0: (0.5506, 0.5256),
    1: (0.5506, 0.5506),
    2: (0.5506, 0.5006),
    3: (0.5295, 0.5045),
    4: (0.5506, 0.5256),
}
DEFAULT_FITS = [("prospect_declined", "verdict"), ("tire_kicker", "f1"), ("fit", "f1")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out")
    ap.add_argument("--probe", default="evals/runs/dev-probe")
    ap.add_argument("--base", default="evals/runs/dev-ethics-oof")
    ap.add_argument("--fit", nargs=2, action="append", metavar=("TARGET", "OBJECTIVE"))
    args = ap.parse_args()
    fits = [tuple(f) for f in args.fit] if args.fit else DEFAULT_FITS
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    prompts = load_prompts()
    records = probe_records(args.probe)
    cases = [c for c in labelled_cases(args.base) if c.id in records]
    bonus = round(prompts.questions["fit"].threshold - prompts.questions["fit"].cue_threshold, 4)
    folds = make_folds(cases, 5, seed=0)
    # The folds must be the ones the base run's ethics cut-offs were fitted for (its profile names say which).
    for k, test in enumerate(folds):
        names = {cases[i].runs[0].profile.split("@")[0] for i in test}
        if names != {f"ethfold{k}"}:
            raise SystemExit(f"fold {k} holds cases scored with {sorted(names)}, expected ethfold{k}")
    targets = {}
    for target, _ in fits:
        behaviours = prompts.questions[target].behaviours
        if not behaviours:
            raise SystemExit(f"{target} has no behaviours in prompts/manifest.yaml")
        keys = [f"{target}.{b}" for b in behaviours]
        calibrated = prompts.questions[target].calibrated
        score = {c.id: call_scores(records[c.id], target, keys, calibrated, prompts.calibration_floor) for c in cases}
        targets[target] = Target(target, cases, {"behaviours": score}, bonus)
    shipped = yaml.safe_load((ROOT / "prompts" / "profiles" / "embedded.yaml").read_text())
    for k, test in enumerate(folds):
        held = set(test)
        train = [c for i, c in enumerate(cases) if i not in held]
        profile = {**shipped, "name": f"fold{k}", "prompt_version": prompts.version_id}
        profile["tuned_on"] = f"suite dev, the {len(train)} calls outside fold {k}"
        profile["thresholds"] = dict(shipped["thresholds"])
        profile["cue_thresholds"] = dict(shipped["cue_thresholds"])
        cuts = {"ethics": ETHICS_RUN[k]}
        for target, objective in fits:
            cuts |= targets[target].cut_for(train, "behaviours", objective)
        for name, (t, tc) in cuts.items():
            profile["thresholds"][name] = round(t, 4)
            profile["cue_thresholds"][name] = round(tc, 4)
        (out / f"fold{k}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
        (out / f"fold{k}.ids").write_text("".join(f"{cases[i].id}\n" for i in sorted(test)))
        shown = ", ".join(f"{n} {t:.4f}/{tc:.4f}" for n, (t, tc) in cuts.items())
        print(f"fold {k}: {len(test)} held-out calls; {shown}")
    for target, objective in fits:
        t, tc = targets[target].cut_for(cases, "behaviours", objective)[target]
        print(f"all {len(cases)} calls: {target} {t:.4f}/{tc:.4f} ({objective})")


if __name__ == "__main__":
    main()
