"""`walkaway eval SUITE.yaml [...]` runs a labelled suite; `walkaway eval compare RUN_A RUN_B` diffs runs.

``eval`` is a click group whose default action is running a suite: any first argument that is not a
subcommand name (a path, or an option such as ``--backend``) is handed to the hidden ``run`` command.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analyzer._cli._options import model_options
from analyzer._errors import EXIT_BACKEND, EXIT_NO, ConfigError
from analyzer.config import load_settings
from analyzer.eval.compare import compare_runs
from analyzer.eval.junit import write_junit
from analyzer.eval.records import CaseRun
from analyzer.eval.render import comparison_tables, print_summary, report_html
from analyzer.eval.results import load_results
from analyzer.eval.runner import AnalyzeFn, default_run_dir, run_suite
from analyzer.eval.suite import Case, load_suite

ANALYZE_FN: AnalyzeFn | None = None
"""The analyze function the CLI uses; None means the pipeline's ``analyze_async``. Tests set it."""


class _DefaultRunGroup(click.Group):
    """A group that treats an unknown first argument as the arguments of its default command."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "SUITE.yaml [OPTIONS] | compare RUN_A RUN_B")


@click.group(name="eval", cls=_DefaultRunGroup)
def command() -> None:
    """Score the analyzer on a labelled suite, or compare two runs.

    \b
      walkaway eval SUITE.yaml [--backend B] [--model M] [--repeat N] [--concurrency K]
                    [--out DIR] [--no-cache] [--junit FILE] [--case ID ...]
      walkaway eval compare RUN_A RUN_B

    Run `walkaway eval run --help` for every option of a suite run.
    """


@command.command(name="run", hidden=True)
@click.argument("suite_path", metavar="SUITE.yaml", type=click.Path(path_type=Path, dir_okay=False))
@model_options()
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True, help="Runs per case.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Analyses in flight at once.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder (default runs/<suite>-<backend>-<UTC timestamp>/).",
)
@click.option("--no-cache", is_flag=True, help="Bypass the response cache on every repeat.")
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write JUnit XML here.",
)
@click.option("--case", "case_ids", multiple=True, metavar="ID", help="Run only this case (repeatable).")
@click.option(
    "--redact/--no-redact",
    default=None,
    help="Redact personal data before it is sent to the model (default: on for endpoints off this machine).",
)
def run_command(
    suite_path: Path,
    backend: str | None,
    model: str | None,
    strategy: str | None,
    profile: str | None,
    repeat: int,
    concurrency: int,
    out_dir: Path | None,
    no_cache: bool,
    junit_path: Path | None,
    case_ids: tuple[str, ...],
    redact: bool | None,
) -> None:
    """Run SUITE.yaml: write results.json and report.html, print the summary.

    Exits 1 on a missed threshold or when any case errored, 3 when every analysis failed on the backend.
    """
    from analyzer.accounts.evaluate import is_account_suite

    if suite_path.is_file() and is_account_suite(suite_path):
        _run_account_suite(suite_path, backend, model, strategy, profile, out_dir, no_cache, case_ids, redact)
        return
    suite = load_suite(suite_path).select(list(case_ids))
    # Analyses read their settings from the environment (also in worker processes).
    for var, value in (("WALKAWAY_STRATEGY", strategy), ("WALKAWAY_PROFILE", profile), ("WALKAWAY_MODEL", model)):
        if value is not None:
            os.environ[var] = value
    backend_name = backend
    if backend_name is None:
        backend_name = load_settings().resolved_backend()
    out = out_dir or default_run_dir(suite.name, backend_name)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot create the output folder ({exc.strerror})") from None

    err_console = Console(stderr=True)
    total = len(suite.cases) * repeat
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task(f"eval {suite.name}", total=total)

        def on_done(case: Case, run: CaseRun) -> None:
            bar.update(task, advance=1, description=f"eval {suite.name}: {case.id}")

        results = asyncio.run(
            run_suite(
                suite,
                analyze=ANALYZE_FN,
                backend=backend,
                model=model,
                repeat=repeat,
                concurrency=concurrency,
                use_cache=not no_cache,
                progress=on_done,
                redact=redact,
            )
        )
    if backend is None and results.meta.backend == "default":
        results.meta.backend = backend_name

    results.write(out / "results.json")
    (out / "report.html").write_text(report_html(results), encoding="utf-8")
    if junit_path is not None:
        write_junit(results, junit_path)

    print_summary(results, Console(file=sys.stdout))
    click.echo(f"results: {out / 'results.json'}  report: {out / 'report.html'}")
    runs = [r for c in results.cases for r in c.runs]
    errored = [r for r in runs if r.error is not None]
    if runs and len(errored) == len(runs) and all(r.error_type in _BACKEND_ERRORS for r in errored):
        click.echo(f"error: every analysis failed on the backend, e.g. {errored[0].error}", err=True)
        click.get_current_context().exit(EXIT_BACKEND)
    code = 0
    if errored:
        click.echo(f"{len(errored)} of {len(runs)} analyses errored (see results.json)", err=True)
        code = EXIT_NO
    if not results.passed:
        missed = [t.metric for t in results.thresholds if not t.passed]
        click.echo(f"threshold missed: {', '.join(missed)}", err=True)
        code = EXIT_NO
    if code:
        click.get_current_context().exit(code)


def _run_account_suite(
    suite_path: Path,
    backend: str | None,
    model: str | None,
    strategy: str | None,
    profile: str | None,
    out_dir: Path | None,
    no_cache: bool,
    case_ids: tuple[str, ...],
    redact: bool | None,
) -> None:
    """``walkaway eval`` on an account suite: results.json with verdict accuracy and pattern P/R/F1."""
    from analyzer.accounts.evaluate import load_account_suite, run_account_suite, summary_lines

    suite = load_account_suite(suite_path)
    unknown = set(case_ids) - {a.id for a in suite.accounts}
    if unknown:
        raise ConfigError(f"{suite_path}: no account {', '.join(sorted(unknown))}")
    settings = load_settings(backend=backend, model=model, strategy=strategy, profile=profile, redact=redact)
    name = backend or settings.resolved_backend()
    out = out_dir or default_run_dir(suite.name, name)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    run = asyncio.run(
        run_account_suite(
            suite, settings=settings, backend=name, use_cache=False if no_cache else None, only=list(case_ids) or None
        )
    )
    (out / "results.json").write_text(run.model_dump_json(indent=2) + "\n", encoding="utf-8")
    for line in summary_lines(run):
        click.echo(line)
    click.echo(f"results: {out / 'results.json'}")
    m = run.metrics
    figures = {"verdict_accuracy": m.verdict_accuracy, "pattern_macro_f1": m.pattern_macro_f1}
    missed = [k for k, v in suite.thresholds.items() if k in figures and figures[k] < v]
    if missed or m.errors:
        click.get_current_context().exit(1)


_BACKEND_ERRORS = ("BackendError", "ExtractionError")


@command.command(name="compare")
@click.argument("run_a", metavar="RUN_A", type=click.Path(path_type=Path))
@click.argument("run_b", metavar="RUN_B", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of tables.")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when any case change is a regression.")
def compare_command(run_a: Path, run_b: Path, as_json: bool, fail_on_regression: bool) -> None:
    """Metric deltas and per-case fixes/regressions from RUN_A to RUN_B (folders or results.json files)."""
    cmp = compare_runs(load_results(run_a), load_results(run_b))
    if as_json:
        payload: dict[str, Any] = cmp.model_dump()
        payload["fixes"], payload["regressions"] = cmp.fixes, cmp.regressions
        click.echo(json.dumps(payload, indent=2))
    else:
        Console(file=sys.stdout).print(comparison_tables(cmp))
    if fail_on_regression and cmp.regressions:
        click.get_current_context().exit(1)


@command.command(name="tune")
@click.argument("runs", metavar="RUN...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--write",
    "write_to",
    is_flag=False,
    flag_value="-",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the tuning as a model profile: to this path (e.g. prompts/profiles/embedded.yaml), or with "
    "--profile NAME and no path to <home>/profiles/NAME.yaml, which analyses then find for the run's model.",
)
@click.option(
    "--profile",
    "profile_name",
    default=None,
    metavar="NAME",
    help="The name of the profile --write writes (default: the file name).",
)
@click.option(
    "--case",
    "case_globs",
    multiple=True,
    metavar="GLOB",
    help="Tune on the cases whose id matches this glob only (repeatable), e.g. 'a*' to keep part B held out.",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=None,
    help="Cross-validate: fit on K-1 folds (whole writers each), score the held-out fold, for every fold; "
    "prints out-of-fold figures beside in-sample ones.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fold assignment.")
@click.option(
    "--suite",
    "suite_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Take each case's writer (and labels) from this suite, e.g. for a run recorded before writers were.",
)
@click.option("--json", "as_json", is_flag=True, help="With --folds: print the cross-validation as JSON.")
@click.option(
    "--combiner",
    type=click.Choice(["max", "noisy_or", "logistic"]),
    default=None,
    help="Windows runs: the combiner to fit (default: the one in prompts/windows-thresholds.yaml).",
)
def tune_command(
    runs: tuple[Path, ...],
    write_to: Path | None,
    case_globs: tuple[str, ...],
    folds: int | None,
    seed: int,
    suite_path: Path | None,
    as_json: bool,
    combiner: str | None,
    profile_name: str | None,
) -> None:
    """Best yes-score thresholds per question from one or more finished runs (no model calls).

    Several runs of one suite (e.g. scored a part at a time) are pooled; a case in two runs counts once
    (the later run wins)."""
    import fnmatch

    from rich.table import Table

    from analyzer.eval.tune import tune
    from analyzer.extraction.prompts import load_prompts

    loaded = [load_results(r) for r in runs]
    results = loaded[-1]
    run = runs[0] if len(runs) == 1 else Path(f"{runs[0]} (+{len(runs) - 1} more)")
    by_id = {c.id: c for r in loaded for c in r.cases}
    results = results.model_copy(update={"cases": list(by_id.values())})
    prompts = load_prompts()
    current = {k: (q.threshold, q.cue_threshold) for k, q in prompts.questions.items()}
    cases = results.cases
    if suite_path is not None:
        labelled = {c.id: c for c in load_suite(suite_path, check_files=False).cases}
        cases = [
            c.model_copy(update={"writer": labelled[c.id].writer, "expected": labelled[c.id].expected})
            for c in cases
            if c.id in labelled
        ]
    if case_globs:
        cases = [c for c in cases if any(fnmatch.fnmatchcase(c.id, g) for g in case_globs)]
        if not cases:
            raise ConfigError(f"no case of {run} matches {', '.join(case_globs)}")
    from analyzer.eval.windowfit import is_windows_run

    if write_to is not None and str(write_to) == "-":
        if not profile_name:
            raise ConfigError("--write without a path needs --profile NAME (it writes <home>/profiles/NAME.yaml)")
        write_to = load_settings().home / "profiles" / f"{profile_name}.yaml"
    if is_windows_run(cases):
        if profile_name:
            raise ConfigError(
                "a windows run is tuned into the windows combiner file (--write prompts/windows-thresholds.yaml), "
                "not a model profile; drop --profile"
            )
        _tune_windows(
            cases, folds=folds, seed=seed, as_json=as_json, write_to=write_to, run=str(run), combiner=combiner
        )
        return
    if folds is not None:
        from analyzer.eval.folds import cross_validate
        from analyzer.eval.render import cross_validation_tables

        cv = cross_validate(cases, current, k=folds, seed=seed)
        if as_json:
            click.echo(cv.model_dump_json(indent=2))
        else:
            Console(file=sys.stdout).print(*cross_validation_tables(cv, str(run)))
        if write_to is None:
            return
    rows = tune(cases, current)
    if not rows:
        raise ConfigError(f"{run} has no per-question scores (run it with an LLM backend first)")
    table = Table(title=f"Tuned thresholds (F1 over {len(cases)} cases of this run)")
    for col in ("question", "current", "current F1", "tuned (no cue / cue)", "F1", "precision", "recall", "support"):
        table.add_column(col, justify="left" if col == "question" else "right")
    for r in rows:
        cur = current.get(r.name, (0.5, 0.5))
        table.add_row(
            r.name,
            f"{cur[0]:.3f} / {cur[1]:.3f}",
            "-" if r.current_f1 is None else f"{r.current_f1:.3f}",
            f"{r.threshold:.3f} / {r.cue_threshold:.3f}",
            f"{r.f1:.3f}",
            f"{r.precision:.3f}",
            f"{r.recall:.3f}",
            str(r.support),
        )
    Console(file=sys.stdout).print(table)
    if write_to is not None:
        _write_profile(write_to, profile_name, results, cases, rows, current, case_globs)


def _write_profile(
    write_to: Path,
    profile_name: str | None,
    results: Any,
    cases: list[Any],
    rows: list[Any],
    current: dict[str, tuple[float, float]],
    case_globs: tuple[str, ...],
) -> None:
    """The tuned cut-offs as a model profile, with the calibration the run's scores were computed under
    (the run's own profile's), so the pipeline reproduces the scores it was tuned on."""
    import yaml

    from analyzer.extraction.profiles import EMBEDDED, load_profile

    tuned = {r.name: r for r in rows}
    first = next((run for c in cases for run in c.runs if run.backend), None)
    backend, model = (first.backend, first.model) if first is not None else (results.meta.backend, results.meta.model)
    used = first.profile.split("@")[0] if first is not None else ""
    settings = load_settings()
    calibrate: list[str] = []
    floor = 0.15
    if used or backend in ("local", "fake"):
        source = load_profile(used or EMBEDDED, settings.home)
        calibrate, floor = [str(n) for n in source.calibrate], source.calibration_floor
    name = profile_name or write_to.stem
    data: dict[str, Any] = {
        "name": name,
        "models": [f"{backend}:{model}"] if model else [],
        "strategy": (first.strategy if first is not None and first.strategy else "chunks"),
        "prompt_version": results.meta.prompt_version.split("+")[0],
        "tuned_on": f"{results.meta.suite}, {len(cases)} cases{': ' + ', '.join(case_globs) if case_globs else ''}",
        "thresholds": {n: tuned[n].threshold if n in tuned else current[n][0] for n in current},
        "cue_thresholds": {n: tuned[n].cue_threshold if n in tuned else current[n][1] for n in current},
        "calibrate": calibrate,
        "calibration_floor": floor,
    }
    header = (
        f"# Model profile '{name}', written by `walkaway eval tune` from {len(cases)} cases of suite "
        f"'{results.meta.suite}'.\n# `thresholds` apply when no cue matched in the chunk; `cue_thresholds` when "
        "the cue lexicon matched\n# (one shared cue bonus apart). `calibrate`: questions scored against the "
        "chunk's own yes-bias.\n"
    )
    try:
        write_to.parent.mkdir(parents=True, exist_ok=True)
        write_to.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{write_to}: cannot write the profile ({exc.strerror})") from None
    click.echo(f"wrote profile {name} to {write_to}")


def _tune_windows(
    cases: list[Any],
    *,
    folds: int | None,
    seed: int,
    as_json: bool,
    write_to: Path | None,
    run: str,
    combiner: str | None,
) -> None:
    """``eval tune`` for a windows-strategy run: refit the combiner from the recorded window answers."""
    import yaml

    from analyzer.eval.render import cross_validation_tables
    from analyzer.eval.windowfit import cross_validate_windows, fit_windows, load_transcripts
    from analyzer.extraction.windows import load_window_spec

    spec = load_window_spec()
    base = spec.tuning if combiner is None else spec.tuning.model_copy(update={"combiner": combiner})
    if folds is not None:
        transcripts = load_transcripts(cases)
        cv = cross_validate_windows(cases, base, spec.labels(), transcripts, k=folds, seed=seed)
        if as_json:
            click.echo(cv.model_dump_json(indent=2))
        else:
            Console(file=sys.stdout).print(*cross_validation_tables(cv, run))
    fitted = fit_windows(cases, base)
    if not as_json or folds is None:
        click.echo(yaml.safe_dump({"fitted on all cases": fitted.model_dump()}, sort_keys=False).rstrip())
    if write_to is not None:
        # A name no call of the run was labelled with got an "off" cut-off (1.01) for fitting; a shipped file
        # leaves it to the default cut-off instead of switching the category off for every user.
        unseen = sorted(k for k, v in fitted.thresholds.items() if v > 1.0)
        fitted = fitted.model_copy(update={"thresholds": {k: v for k, v in fitted.thresholds.items() if v <= 1.0}})
        header = (
            f"# The windows strategy's combiner, fitted with `walkaway eval tune` on {len(cases)} cases of {run}\n"
            f"# (questions {spec.version_id}). See analyzer/extraction/combine.py for what each number does.\n"
            + (f"# No labelled call for {', '.join(unseen)}: the default cut-off applies.\n" if unseen else "")
        )
        try:
            write_to.parent.mkdir(parents=True, exist_ok=True)
            write_to.write_text(header + yaml.safe_dump(fitted.model_dump(), sort_keys=False), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{write_to}: cannot write the tuning ({exc.strerror})") from None
        click.echo(f"wrote {write_to}")
