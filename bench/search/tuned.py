"""Re-seeding a search's best configurations and writing the tuned table.

One study per arm: the best configuration of each arm is re-trained over the seeds and
published like any run (``tuned.md`` through ``bench.publish``, variant ``tuned``). Several
studies: each study's best configurations are re-trained (one parent run per study, variant
``tuned-study-<k>``) and ``tuned.md`` combines them (``bench.search.finals``): the median
over studies with its spread next to the seed interval, the comparisons on the
study-averaged seeds, and the probability that each arm is best.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys

from ..files import write_atomic
from .outcome import tuned_experiment

__all__ = ["reseed", "config_hash"]


def config_hash(experiment, seeds) -> str:
    blob = json.dumps(experiment.arm_configs() + [seeds], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _budget_note(args, outcomes, trials) -> str:
    spent = "; ".join(f"{arm}: {sum(o[arm].counted for o in outcomes)} trials, "
                      f"{sum(o[arm].seconds for o in outcomes):.0f} s of trials"
                      for arm in outcomes[0])
    n = len(outcomes)
    return (f"Each arm tuned by {n} independent Optuna stud{'y' if n == 1 else 'ies'} of "
            f"{trials} trials ({args.sampler} sampler, {args.pruner} pruner, space "
            f"`{args.space}`) on validation loss; the best configuration of each study was "
            f"re-trained over the seeds above and scored once on the test set. Budget spent: "
            f"{spent}. See search.md.")


def reseed(args, experiment, outcomes: list, tracker, seeds: list[int], kind: str,
           subdir: str, command: str, trials: int, out_dir: str) -> dict:
    """Re-train every study's best configurations; write the tuned table. Returns
    ``{"p_best": {arm: probability}, "summary": ..., "runs": ...}`` (the runs of every
    study, with a ``study`` column)."""
    from ..locations import place
    from ..session import run_experiment
    from .finals import p_best, study_runs
    dataset = experiment.arms[0].config.dataset
    single = len(outcomes) == 1
    parents = []
    for index, outcome in enumerate(outcomes):
        tuned = tuned_experiment(experiment, outcome)
        variant = "tuned" if single else f"tuned-study-{index + 1}"
        parent = run_experiment(
            tuned, tracker, seeds=seeds, jobs=max(args.jobs, 1),
            experiment_name=args.experiment_name, data_dir=args.data_dir, quiet=args.quiet,
            command=command, variant=variant,
            run_key=f"tuned-{config_hash(tuned, seeds)}" + ("" if single else f"-study-{index + 1}"),
            label="tuned" if single else f"tuned study {index + 1}")
        place(tracker, parent, experiment.name, dataset, kind, subdir)
        parents.append(parent)
    note = _budget_note(args, outcomes, trials)
    arms = [a.name for a in experiment.arms]
    if single:
        from ..publish import publish  # imports scipy: only when re-seeding
        published = publish(tracker, parents[0], args.results_dir, quiet=args.quiet,
                            command=command, extra_notes=[note], as_json=args.json)
        runs = study_runs(tracker, parents)
        return {"p_best": p_best(runs, arms, args.seed), "summary": published["summary"],
                "runs": runs}
    return _combined(args, tracker, parents, arms, note, command, out_dir)


def _combined(args, tracker, parents, arms, note, command, out_dir) -> dict:
    from .. import tags as T
    from ..notes import table_notes
    from ..tables import print_table, to_csv, to_markdown
    from .finals import combined_summary, p_best, study_spread
    summary, runs, structure = combined_summary(tracker, parents)
    probs = p_best(runs, list(summary["arm"]), args.seed)
    spread = {arm: study_spread(runs, arm) for arm in summary["arm"]}
    for key in ("median", "low", "high", "half"):
        summary[f"study_{key}"] = [spread[a][key] for a in summary["arm"]]
    summary["p_best"] = [probs.get(a, math.nan) for a in summary["arm"]]
    first = tracker.client.get_run(parents[0])
    dataset = first.data.tags.get(T.DATASET, "unknown")
    n = len(parents)
    title = f"{structure['experiment']} on {dataset} (tuned, {n} studies)"
    notes = table_notes(summary, runs[runs["study"] == 0], structure, first.data.tags,
                        parents[0], command, first.data.params)
    # This table is not one parent run's: the search command, re-run, rebuilds it.
    notes = [n.replace("`python -m bench report` rebuilds it from MLflow",
                       "re-running this command rebuilds it from MLflow and the Optuna "
                       "storage without training") for n in notes]
    notes += [note, f"Re-seeded runs of study k: MLflow parent runs {', '.join(parents)} "
              "(variant tuned-study-k). The arms and comparison tables below use each seed's "
              f"test accuracy averaged over the {n} studies' best configurations (paired by "
              "seed, Holm within each table); `epochs to target` pools every study's runs.",
              "P(best): bootstrap (2,000 resamples of studies and of seeds, with replacement, "
              f"from seed {args.seed}) of which arm has the highest mean test accuracy."]
    head = [f"# {title}", "", "## Tuned arms over studies", "",
            f"Median over the {n} studies of each study's mean test accuracy (over its seeds); "
            "the tuning spread is the lowest and highest study (how much tuning luck moves the "
            "result); the seed interval is the median over studies of the 95% half-width.", "",
            "| arm | median over studies (%) | tuning spread, min – max (%) | seed interval (± pp) "
            "| P(best) | epochs to target |", "|---|---|---|---|---|---|"]
    for r in summary.itertuples():
        head.append(f"| {r.arm} | {_pct(r.study_median)} | {_pct(r.study_low)} – "
                    f"{_pct(r.study_high)} | ± {_pct(r.study_half)} | {_prob(r.p_best)} | "
                    f"{r.to_target} |")
    body = to_markdown(summary, title, notes, False, structure["baseline"]).split("\n", 1)[1]
    markdown = "\n".join(head) + "\n" + body.replace("## Arms", "## Arms (seeds averaged over "
                                                                 "studies)", 1)
    os.makedirs(out_dir, exist_ok=True)
    paths = {"markdown": os.path.join(out_dir, "tuned.md"),
             "csv": os.path.join(out_dir, "tuned.csv"),
             "runs": os.path.join(out_dir, "tuned-runs.csv")}
    write_atomic(paths["markdown"], markdown)
    write_atomic(paths["csv"], to_csv(summary))
    write_atomic(paths["runs"], runs.to_csv(index=False, float_format="%.6g"))
    for path in paths.values():
        tracker.log_artifact(parents[0], path)
    if args.json:
        from ..table_json import summary_json
        print(summary_json(summary, title, parents[0], out_dir))
    else:
        print_table(summary, title, baseline=structure["baseline"])
    print(f"tables written to {out_dir}/ (tuned.md, tuned.csv, tuned-runs.csv)", file=sys.stderr)
    return {"p_best": probs, "summary": summary, "runs": runs}


def _pct(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value * 100:.2f}"


def _prob(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"
