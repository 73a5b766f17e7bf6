"""One experiment on several data sets (``--dataset a,b,c``) and the summary across them.

Each data set runs exactly as ``--dataset a`` alone would (its own parent run and results
folder). Then ``across.md`` puts each comparison's verdict side by side per data set: does
"+ momentum helps" hold beyond one data set? For searches it adds a performance profile in
the AlgoPerf manner: per data set, each arm's median epochs to the validation target of its
re-seeded finals relative to the fastest arm's, and for each ratio tau the fraction of data
sets on which the arm is within tau of the fastest. A censored time (most runs never reached
the target) is infinitely slow: it never enters the profile.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import sys

import numpy as np

from .files import write_atomic
from .planning import UsageError
from .tables import verdict_text

__all__ = ["split_datasets", "for_each_dataset", "verdict_lines", "profile_ratios",
           "write_across", "is_default_dir"]


def split_datasets(value: str | None) -> list[str] | None:
    """The data sets of ``--dataset a,b,c`` (None for none given); an unknown name is a
    ``UsageError`` before anything runs."""
    if not value:
        return None
    from .datasets import DATASETS
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in DATASETS:
            raise UsageError(f"unknown dataset {name!r} in --dataset; valid: {', '.join(DATASETS)}")
    if len(set(names)) != len(names):
        raise UsageError(f"--dataset names a data set twice: {value!r}")
    return names


def for_each_dataset(args, one) -> dict[str, dict]:
    """``one(args)`` per data set of ``args.dataset`` (a copy of ``args`` with one name each)."""
    out = {}
    for name in split_datasets(args.dataset):
        single = copy.copy(args)
        single.dataset = name
        print(f"== {name} ==", file=sys.stderr, flush=True)
        out[name] = one(single)
    return out


def _cell(summary, arm: str, prefix: str) -> str:
    rows = summary[summary["arm"] == arm]
    if rows.empty:
        return "–"
    r = rows.iloc[0]
    diff = r[f"d_{prefix}_acc"]
    if not isinstance(r[f"d_{prefix}_vs"], str) or math.isnan(diff):
        return "–"
    verdict = verdict_text(r[f"d_{prefix}_verdict"], r[f"d_{prefix}_detectable"],
                           r[f"d_{prefix}_needed"], diff, short=True)
    return f"{diff * 100:+.2f} pp, {verdict}"


def verdict_lines(summaries: dict) -> list[str]:
    """Markdown: each "vs previous" comparison's difference and verdict per data set."""
    names = list(summaries)
    first = summaries[names[0]]
    lines = ["| arm | vs | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for r in first.itertuples():
        if not isinstance(r.d_prev_vs, str):
            continue
        cells = [_cell(summaries[n], r.arm, "prev") for n in names]
        lines.append(f"| {r.arm} | {r.d_prev_vs} | " + " | ".join(cells) + " |")
    return lines


def profile_ratios(times: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{dataset: {arm: time / fastest time}}``; inf for a censored (inf) time, and inf for
    every arm on a data set where no arm reached the target."""
    out = {}
    for name, arms in times.items():
        finite = [t for t in arms.values() if math.isfinite(t)]
        best = min(finite) if finite else math.inf
        out[name] = {a: (t / best if math.isfinite(t) and math.isfinite(best) and best > 0
                         else math.inf) for a, t in arms.items()}
    return out


def _profile_plot(ratios: dict, path: str, title: str) -> str:
    from .figures import pyplot
    plt = pyplot()
    arms = list(next(iter(ratios.values())))
    taus = np.geomspace(1, 8, 200)
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    cmap = plt.get_cmap("tab20")
    for index, arm in enumerate(arms):
        r = np.array([ratios[d].get(arm, math.inf) for d in ratios])
        ax.step(taus, [(r <= t).mean() for t in taus], where="post", label=arm,
                color=cmap(index % 20))
    ax.set_xscale("log")
    ax.set(xlabel="tau: epochs to target / fastest arm's", ylabel="fraction of data sets",
           title=title, ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def is_default_dir(out_dir: str, experiment: str, dataset: str) -> bool:
    """Whether a data set's tables went to its committed folder (a full default run)."""
    return os.path.normpath(out_dir).endswith(os.path.join(experiment, dataset))


def write_across(experiment: str, summaries: dict, out_root: str, command: str,
                 times: dict | None = None, default: bool = False) -> str:
    """``across.md`` (and with ``times`` the performance profile) under
    ``<out_root>/<experiment>/across/<a>+<b>/`` when every data set ran its full default
    configuration, else in a dated folder under ``across/runs/``; returns its path."""
    name = "+".join(summaries)
    if not default:
        name = f"runs/{dt.datetime.now():%Y%m%d-%H%M%S}-{name}"
    out_dir = os.path.join(out_root, experiment, "across", name)
    os.makedirs(out_dir, exist_ok=True)
    lines = [f"# {experiment} across data sets: {', '.join(summaries)}", "",
             "## Each arm against the arm it changes, per data set", "",
             "Paired difference in test accuracy and the verdict (Holm within each data set's "
             "table), from each data set's own table.", "", *verdict_lines(summaries), ""]
    if times:
        ratios = profile_ratios(times)
        arms = list(next(iter(ratios.values())))
        lines += ["## Performance profile: epochs to the validation target", "",
                  "Median epochs to the data set's target (bench.targets) of each arm's "
                  "re-seeded tuned runs, relative to the fastest arm on that data set (∞: "
                  "censored, most runs never reached it).", "",
                  "| arm | " + " | ".join(ratios) + " |", "|---|" + "---|" * len(ratios)]
        for arm in arms:
            lines.append(f"| {arm} | " + " | ".join(
                "∞" if math.isinf(ratios[d].get(arm, math.inf)) else f"{ratios[d][arm]:.2f}"
                for d in ratios) + " |")
        _profile_plot(ratios, os.path.join(out_dir, "profile.png"),
                      f"{experiment}: performance profile over data sets")
        lines += ["", "![performance profile](profile.png)", ""]
    lines += ["## Notes", "", f"- Made by `{command}` on "
              f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; each data set's tables are in its "
              "own results folder."]
    path = os.path.join(out_dir, "across.md")
    write_atomic(path, "\n".join(lines) + "\n")
    print(f"cross-dataset summary: {path}", file=sys.stderr)
    return path
