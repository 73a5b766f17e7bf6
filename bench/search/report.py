"""What a search found: budget spent, best values, importances and best-so-far curves."""

from __future__ import annotations

import math
import os

from ..figures import pyplot
from ..report import write_atomic

__all__ = ["importances", "best_so_far", "write_search_report", "importance_caveat",
           "IMPORTANCE_MIN_TRIALS"]

# fANOVA fits a random forest to the completed trials; below a few dozen its importances
# mostly reflect which values the sampler happened to try, not what matters.
IMPORTANCE_MIN_TRIALS = 20


def importance_caveat(completed: dict[str, int], quick: bool = False) -> str | None:
    """One line warning that importances from a small (or ``--quick``) budget are no evidence,
    or None when every arm completed enough trials."""
    fewest = min(completed.values(), default=0)
    if not quick and fewest >= IMPORTANCE_MIN_TRIALS:
        return None
    why = "a --quick search" if quick else f"as few as {fewest} completed trial(s) per arm"
    return (f"caveat: importances from {why} are a rough guess, not evidence (fANOVA needs "
            f"at least {IMPORTANCE_MIN_TRIALS} completed trials per arm to mean much)")


def importances(study) -> dict[str, float]:
    """fANOVA importances (``optuna.importance``); empty when too few trials completed."""
    import optuna
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2 or len({tuple(sorted(t.params.items())) for t in complete}) < 2:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):  # e.g. a single parameter with one value
        return {}


def best_so_far(study) -> list[tuple[int, float]]:
    """(trial number, best value so far) over completed trials, in trial order."""
    import optuna
    best, out = math.inf, []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
            best = min(best, t.value)
        if math.isfinite(best):
            out.append((t.number, best))
    return out


def plot_best_so_far(curves: dict[str, list[tuple[int, float]]], path: str, title: str) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for arm, curve in curves.items():
        if curve:
            ax.step([c[0] + 1 for c in curve], [c[1] for c in curve], where="post", label=arm)
    ax.set(xlabel="trial", ylabel="best objective so far (loss)", title=title)
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))  # 0.6, not 6x10^-1
    ax.yaxis.set_minor_formatter(FuncFormatter(  # label 2, 3 and 5 x 10^k only
        lambda v, _: f"{v:.3g}" if f"{v:.1e}"[:3] in ("2.0", "3.0", "5.0") else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, title="arm", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_search_report(tracker, search_run: str, outcome: dict, storage_url: str | None,
                        out_dir: str, budget: int, title: str, objective: str = "val_loss",
                        quick: bool = False) -> dict:
    import optuna

    from .storage import open_storage
    storage = open_storage(storage_url)
    os.makedirs(out_dir, exist_ok=True)
    lines = [f"# {title}", "",
             f"Budget: {budget} trials per arm (counted across restarts; trials of dead workers "
             "are retried and not counted). Objective: "
             f"{'final training loss' if objective == 'train_loss' else 'validation loss'}.", "",
             "| arm | trials complete / pruned / failed | search time (s) | best objective | "
             "best parameters | importances |", "|---|---|---|---|---|---|"]
    curves, result = {}, {}
    for arm, info in outcome.items():
        study = optuna.load_study(study_name=info.study, storage=storage)
        imp = importances(study)
        curves[arm] = best_so_far(study)
        best = info.best_trial
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in (best.params.items() if best else []))
        imp_text = ", ".join(f"{k} {v:.2f}" for k, v in imp.items()) or "–"
        s = info.states
        lines.append(f"| {arm} | {s['COMPLETE']} / {s['PRUNED']} / {s['FAIL']} | "
                     f"{info.seconds:.1f} | {best.value:.4f} | {params} | {imp_text} |"
                     if best else f"| {arm} | {s['COMPLETE']} / {s['PRUNED']} / {s['FAIL']} | "
                     f"{info.seconds:.1f} | – | – | – |")
        tracker.log_json(info.arm_run, {"importances": imp, "best_so_far": curves[arm]},
                         "search_summary.json")
        result[arm] = {"importances": imp, "best_so_far": curves[arm]}
    caveat = importance_caveat({arm: info.states["COMPLETE"] for arm, info in outcome.items()},
                               quick)
    if caveat:
        lines += ["", caveat[0].upper() + caveat[1:] + "."]
    plot = plot_best_so_far(curves, os.path.join(out_dir, "search_best_so_far.png"), title)
    tracker.log_artifact(search_run, plot)
    lines += ["", "![best so far](search_best_so_far.png)", ""]
    from ..plots import importances_chart
    imp_plot = importances_chart({a: r["importances"] for a, r in result.items()},
                                 os.path.join(out_dir, "search_importances.png"),
                                 f"{title}: parameter importances per arm")
    if imp_plot:
        tracker.log_artifact(search_run, imp_plot)
        lines += ["![importances](search_importances.png)", ""]
    path = os.path.join(out_dir, "search.md")
    write_atomic(path, "\n".join(lines) + "\n")
    tracker.log_artifact(search_run, path)
    return {"path": path, "plot": plot, "arms": result, "caveat": caveat}
