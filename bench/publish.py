"""Turn a parent run's children into the committed tables and figures under ``results/``."""

from __future__ import annotations

import os
import sys

from . import tags as T
from .locations import subdir_of
from .locks import results_lock
from .report import NotWritten, load_runs, load_structure, summarize, write_atomic
from .notes import kernels_of, table_notes
from .table_json import summary_json
from .tables import print_table, to_csv, to_markdown

__all__ = ["publish"]


def publish(tracker, parent_id: str, results_root: str = "results", quiet: bool = False,
            command: str | None = None, extra_notes: list[str] = (), as_json: bool = False) -> dict:
    """Write ``table.md``, ``table.csv`` and ``runs.csv`` for ``parent_id`` into its results
    folder (``bench.locations``); print the table, or with ``as_json`` the table as JSON.

    ``quiet`` is for progress only: the table (the result) and where it went are printed
    either way."""
    parent = tracker.client.get_run(parent_id)
    structure = load_structure(tracker, parent_id)
    runs = load_runs(tracker, parent_id)
    summary = summarize(runs, structure)
    dataset = parent.data.tags.get(T.DATASET, "unknown")
    out_dir = os.path.join(results_root, subdir_of(parent))
    with_ref = dataset == "mnist" and any(a.get("reference") for a in structure["arms"])
    notes = table_notes(summary, runs, structure, parent.data.tags, parent_id, command,
                        parent.data.params)
    notes += list(extra_notes)
    kernels = kernels_of(runs)
    if len(kernels) > 1:
        print(f"warning: this table mixes BLAS kernels ({', '.join(kernels)}): its digits "
              "are not reproducible bit for bit", file=sys.stderr)
    variant = parent.data.tags.get(T.VARIANT, "as-specified")
    stem = "table" if variant == "as-specified" else variant
    title = f"{structure['experiment']} on {dataset}" + ("" if stem == "table" else f" ({variant})")
    paths = {
        "markdown": os.path.join(out_dir, f"{stem}.md"),
        "csv": os.path.join(out_dir, f"{stem}.csv"),
        "runs": os.path.join(out_dir, f"{stem}-runs.csv" if stem != "table" else "runs.csv"),
    }
    # One writer at a time per experiment and data set (the default folder and its runs/
    # share it): a table set always comes from one parent run, even with two invocations.
    shared = os.path.join(results_root, *subdir_of(parent).split("/")[:2])
    with results_lock(shared):
        write_atomic(paths["csv"], to_csv(summary))
        write_atomic(paths["runs"], runs.to_csv(index=False, float_format="%.6g"))
        figures, failed = publish_figures(tracker, parent_id, runs, structure, out_dir, stem,
                                          title, summary)
        markdown = to_markdown(summary, title, notes, with_ref, structure["baseline"])
        markdown += "".join(f"\n![{caption}]({os.path.basename(p)})\n" for caption, p in (
            ("Paired differences per comparison, each seed's difference and the verdict",
             figures.get("forest")),
            ("Test accuracy per arm, 95% intervals", figures.get("chart")),
            ("Validation curves per arm", figures.get("curves"))) if p)
        write_atomic(paths["markdown"], markdown)
        paths["html"] = os.path.join(out_dir, f"{stem.replace('table', 'report')}.html")
        write_atomic(paths["html"], _html(tracker, parent, summary, title, notes, figures,
                                          structure))
    unrecorded = _record_in_mlflow(tracker, parent, summary, paths, title, markdown)
    if as_json:
        print(summary_json(summary, title, parent_id, out_dir))
    else:
        print_table(summary, title, baseline=structure["baseline"])
    names = ", ".join(os.path.basename(p) for p in [*paths.values(), *figures.values()])
    print(f"tables written to {out_dir}/ ({names})", file=sys.stderr)
    for message in unrecorded:  # the files are written; MLflow's copy is a convenience
        print(f"warning: {message}", file=sys.stderr)
    if not failed:  # a rerun of the command need not measure again (bench.session)
        import datetime
        tracker.set_tags(parent_id, {T.PUBLISHED: datetime.datetime.now(datetime.UTC).isoformat()})
    if failed:  # even with --quiet: a missing figure is not a success
        raise NotWritten("; ".join(failed) + f" (in {out_dir}; the tables and the runs are kept)")
    return {"summary": summary, "runs": runs, "paths": paths, "out_dir": out_dir,
            "figures": figures}


def ui_base(tracker) -> str:
    """Where the MLflow UI of this store is served: the tracking server itself, or what
    ``python -m bench ui`` serves for a local store."""
    return tracker.uri if tracker.uri.startswith(("http://", "https://")) else "http://127.0.0.1:5000"


def _html(tracker, parent, summary, title, notes, figures, structure) -> str:
    from .arm_runs import arm_run_ids
    from .html_report import mlflow_run_url, render_report
    from .checks import redact
    exp_id, base = parent.info.experiment_id, redact(ui_base(tracker))
    links = {arm: mlflow_run_url(base, exp_id, run_id)
             for arm, run_id in arm_run_ids(tracker, exp_id, parent.info.run_id).items()}
    return render_report(summary, title, notes, figures, links,
                         mlflow_run_url(base, exp_id, parent.info.run_id), structure["baseline"])


def _record_in_mlflow(tracker, parent, summary, paths, title, markdown) -> list[str]:
    """The aggregates into the arm runs; the table (as the run's description), headline
    metrics and the files into the parent run. Returns what could not be recorded."""
    from .arm_runs import log_arm_summaries
    problems = []
    try:
        log_arm_summaries(tracker, parent.info.experiment_id, parent.info.run_id, summary)
        best = summary.loc[summary["acc_mean"].idxmax()] if summary["acc_mean"].notna().any() else None
        if best is not None:
            tracker.log_metrics(parent.info.run_id, [("best_arm_test_accuracy", float(best["acc_mean"]), 0)],
                                tags={T.BEST_ARM: str(best["arm"])})
        tracker.set_tags(parent.info.run_id, {T.NOTE: markdown[:60000]})
        for path in paths.values():
            tracker.log_artifact(parent.info.run_id, path)
    except Exception as exc:  # noqa: BLE001 - the files are written; MLflow is a copy
        problems.append(f"tables not recorded in MLflow: {type(exc).__name__}: {exc}")
    return problems


def metric_histories(tracker, runs, metrics=("val_loss", "val_accuracy")) -> dict:
    """``{arm: {metric: [[(epoch, value), ...] per seed]}}`` of the finished child runs,
    read back from MLflow (``get_metric_history``), never from in-memory state."""
    out: dict = {}
    for row in runs.itertuples():
        if row.status != "FINISHED":
            continue
        arm = out.setdefault(row.arm, {m: [] for m in metrics})
        for metric in metrics:
            history = tracker.client.get_metric_history(row.run_id, metric)
            arm[metric].append(sorted((m.step, m.value) for m in history))
    return out


def publish_figures(tracker, parent_id: str, runs, structure: dict, out_dir: str, stem: str,
                    title: str, summary=None) -> tuple[dict, list[str]]:
    """Learning curves per arm and the ablation chart: written to ``out_dir`` and logged to
    the parent run. Returns ``({kind: path}, [problems])``; a figure that cannot be drawn is
    reported, never a reason to lose the tables."""
    import pandas as pd

    from .plots import ablation_chart, arm_learning_curves
    figures, failed = {}, []
    prefix = "" if stem == "table" else f"{stem}-"
    order = [a["name"] for a in structure["arms"]]
    try:
        histories = metric_histories(tracker, runs)
        curves = {arm: histories[arm] for arm in order if arm in histories}
        if curves:
            losses = {a["name"]: (a.get("config") or {}).get("loss") for a in structure["arms"]}
            done = runs[runs["status"] == "FINISHED"]
            best = {arm: done.loc[done["arm"] == arm, "best_epoch"].tolist() for arm in curves}
            figures["curves"] = arm_learning_curves(
                curves, os.path.join(out_dir, f"{prefix}learning_curves.png"),
                f"{title}: validation curves per arm",
                {k: v for k, v in losses.items() if v and k in curves}, best,
                {a["name"]: a.get("compare_to") for a in structure["arms"]})
    except Exception as exc:  # noqa: BLE001 - a figure is never worth losing the tables
        failed.append(f"learning curves not drawn: {type(exc).__name__}: {exc}")
    if summary is not None:
        try:
            from .forest import forest_plot
            forest = forest_plot(summary, runs, os.path.join(out_dir, f"{prefix}differences.png"),
                                 f"{title}: paired differences in test accuracy",
                                 structure["baseline"])
            if forest:
                figures["forest"] = forest
        except Exception as exc:  # noqa: BLE001
            failed.append(f"forest plot not drawn: {type(exc).__name__}: {exc}")
    try:
        tables = {}
        for label, name in (("as specified", "table.csv"), ("tuned", "tuned.csv")):
            path = os.path.join(out_dir, name)
            if os.path.exists(path):
                tables[label] = pd.read_csv(path)
        if tables:
            experiment = structure["experiment"]
            dataset = os.path.basename(os.path.normpath(out_dir))
            figures["chart"] = ablation_chart(
                tables, os.path.join(out_dir, "ablation_chart.png"),
                f"{experiment} on {dataset}: test accuracy per arm"
                + (" (as specified vs tuned)" if len(tables) > 1 else ""))
    except Exception as exc:  # noqa: BLE001
        failed.append(f"ablation chart not drawn: {type(exc).__name__}: {exc}")
    for path in figures.values():
        try:
            tracker.log_artifact(parent_id, path)
        except Exception as exc:  # noqa: BLE001
            failed.append(f"{os.path.basename(path)} not logged to MLflow: {exc}")
    return figures, failed
