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
    from ..figures import save_figure
    return save_figure(fig, path, dpi=100)


def _scores(studies: list) -> list[float]:
    """Every counted trial's validation accuracy (0 where it has none: it found nothing)."""
    from .budget import counts
    from .objective import VAL_ACCURACY_ATTR
    out = []
    for study in studies:
        for t in study.get_trials(deepcopy=False):
            if counts(t):
                v = t.user_attrs.get(VAL_ACCURACY_ATTR)
                out.append(float(v) if v is not None and math.isfinite(v) else 0.0)
    return out


def _params_text(best) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in (best.params.items() if best else []))


def _trials_to_target(tracker, infos: list) -> str:
    """Epochs to the validation target over the arm's trials (every study), from MLflow; a
    pruned trial is censored where it stopped, a retried one (worker died) left out."""
    from .. import store
    from .. import tags as T
    from ..targets import format_censored
    epochs, reached, ran = [], [], []
    for info in infos:
        exp_id = tracker.client.get_run(info.arm_run).info.experiment_id
        for run in store.study_trial_runs(tracker, exp_id, info.study):
            flag = run.data.tags.get(T.TARGET_REACHED)
            if flag is None or T.KILLED_REASON in run.data.tags:
                continue
            reached.append(flag == "true")
            epochs.append(run.data.metrics.get("target_epoch", math.nan))
            ran.append(run.data.metrics.get("epochs_run", math.nan))
    return format_censored(epochs, reached, ran) if reached else "–"


def _arm_row(arm: str, infos: list, studies: list, to_target: str = "–") -> tuple[str, dict]:
    from .study import SETTINGS_ATTR
    states = {k: sum(i.states[k] for i in infos) for k in ("COMPLETE", "PRUNED", "FAIL")}
    bests = [i.best_trial for i in infos]
    found = [b for b in bests if b is not None]
    best = min(found, key=lambda b: b.value) if found else None
    space = studies[0].user_attrs.get(SETTINGS_ATTR, {}).get("space", {})
    params = "; ".join(f"{k + 1}: {_params_text(b) or '–'}" for k, b in enumerate(bests)) \
        if len(bests) > 1 else (_params_text(best) or "–")
    imp = importances(studies[0])  # of the first study: fANOVA fits one study
    imp_text = ", ".join(f"{k} {v:.2f}" for k, v in imp.items()) or "–"
    row = (f"| {arm} | {len(space)} ({', '.join(space) or '–'}) | {states['COMPLETE']} / "
           f"{states['PRUNED']} / {states['FAIL']} | {sum(i.seconds for i in infos):.1f} | "
           f"{'–' if best is None else f'{best.value:.4f}'} | {params} | {to_target} | "
           f"{imp_text} |")
    return row, {"importances": imp, "states": states}


def _curve_section(curves: dict, budget: int, studies: int, p_best: dict | None) -> list[str]:
    from .tuning_curve import curve_table, ranking_stable_since
    final = {a: c["mean"][budget - 1] for a, c in curves.items() if not math.isnan(c["mean"][budget - 1])}
    lines = ["## Tuning curves", "",
             f"Expected best validation accuracy (%) after k trials, with its band (± one "
             f"standard deviation of that best, clipped to the scores seen) in brackets, per arm, from all {studies} x {budget} "
             "trials of its studies (Dodge et al. 2019). Estimator: the expected maximum of k "
             "draws *with replacement* from the arm's trial scores, E[max] = sum_i v_(i) "
             "[(i/n)^k - ((i-1)/n)^k]; it is biased (optimistic as k nears n, and it cannot "
             "exceed the best trial seen)" + (f"; pooling the studies keeps k <= {budget} below "
                                             f"n = {studies * budget}" if studies > 1 else
                                             "; with one study n = k at the full budget, where "
                                             "it is most optimistic") +
             ". Every counted trial is a draw: a pruned one with the validation accuracy of "
             "its best epoch before it was stopped, one with no validation at all as 0. TPE "
             "trials are not independent draws, so read the curves as descriptive.",
             "", *curve_table(curves, budget), ""]
    if final:
        order = sorted(final, key=lambda a: -final[a])
        since = ranking_stable_since(curves, budget)
        lead = order[0]
        gain = {a: curves[a]["mean"][budget - 1] - curves[a]["mean"][max(0, budget * 3 // 4 - 1)]
                for a in final}
        moving = max(gain, key=gain.get)
        stable = (f"the ranking of the arms has not changed since k = {since}" if since < budget
                  else "the ranking still changed at the last trial: the budget did not settle it")
        lines += [f"At the full budget (k = {budget}) the expected best is {lead} "
                  f"({final[lead] * 100:.2f}%)" + (f", ahead of {order[1]} by "
                  f"{(final[lead] - final[order[1]]) * 100:.2f} pp" if len(order) > 1 else "")
                  + f"; {stable}. Over the last quarter of the budget the largest gain is "
                  f"{moving}'s, {gain[moving] * 100:+.2f} pp.", ""]
    if p_best:
        lines += ["Probability that each arm is best at the full budget (bootstrap over studies "
                  "and seeds of the re-seeded test accuracies; see tuned.md): "
                  + ", ".join(f"{a} {p:.2f}" for a, p in sorted(p_best.items(), key=lambda x: -x[1])
                              if not math.isnan(p)) + ".", ""]
    return lines


def write_search_report(tracker, search_run: str, outcomes: list, storage_url: str | None,
                        out_dir: str, budget: int, title: str, objective: str = "val_loss",
                        quick: bool = False, p_best: dict | None = None) -> dict:
    """``search.md`` and its figures. ``outcomes``: one ``SearchOutcome`` per study."""
    import optuna

    from .storage import open_storage
    from .tuning_curve import plot_tuning_curves, tuning_curve
    storage = open_storage(storage_url)
    os.makedirs(out_dir, exist_ok=True)
    n = len(outcomes)
    lines = [f"# {title}", "",
             f"Budget: {n} independent stud{'y' if n == 1 else 'ies'} per arm of {budget} trials "
             "each (counted across restarts; trials of dead workers are retried and not "
             "counted), each study with its own sampler seed. Objective: "
             f"{'final training loss' if objective == 'train_loss' else 'validation loss'}.", "",
             "| arm | dimensions | trials complete / pruned / failed | trial time (s, summed) | best "
             "objective | best parameters" + (" (per study)" if n > 1 else "") +
             " | epochs to target (trials) | importances" + (" (study 1)" if n > 1 else "")
             + " |", "|---|---|---|---|---|---|---|---|"]
    curves, result, counted = {}, {}, {}
    for arm in outcomes[0]:
        infos = [o[arm] for o in outcomes if arm in o]
        studies = [optuna.load_study(study_name=i.study, storage=storage) for i in infos]
        row, result[arm] = _arm_row(arm, infos, studies, _trials_to_target(tracker, infos))
        lines.append(row)
        result[arm]["best_so_far"] = best_so_far(studies[0])
        counted[arm] = result[arm]["states"]["COMPLETE"] // max(1, n)
        if objective == "val_loss":
            curves[arm] = tuning_curve(_scores(studies), budget)
        tracker.log_json(infos[0].arm_run, {"importances": result[arm]["importances"],
                                            "best_so_far": result[arm]["best_so_far"]},
                         "search_summary.json")
    caveat = importance_caveat(counted, quick)
    if caveat:
        lines += ["", caveat[0].upper() + caveat[1:] + "."]
    lines.append("")
    if curves:
        lines += _curve_section(curves, budget, n, p_best)
        figure = plot_tuning_curves(curves, os.path.join(out_dir, "tuning_curves.png"),
                                    f"{title}: expected best of k trials")
        tracker.log_artifact(search_run, figure)
        lines += ["![tuning curves](tuning_curves.png)", ""]
    plot = plot_best_so_far({a: r["best_so_far"] for a, r in result.items()},
                            os.path.join(out_dir, "search_best_so_far.png"),
                            title + (" (study 1)" if n > 1 else ""))
    tracker.log_artifact(search_run, plot)
    lines += ["![best so far](search_best_so_far.png)", ""]
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
    return {"path": path, "plot": plot, "arms": result, "caveat": caveat, "curves": curves}
