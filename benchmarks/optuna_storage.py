"""Which local Optuna storage should ``bench search`` default to? Measure it.

    python -m benchmarks.optuna_storage [--trials 200] [--workers 2] [--repeat 3]

Runs the same shared-budget study on each local storage (the journal file and SQLite via
Optuna's RDB storage with its heartbeat, both opened exactly as ``bench search`` opens them)
with ``--workers`` processes and a trivial objective, so the storage is all that is timed.
Each worker runs the loop ``bench search`` workers run: recover stale trials, check the
budget, then one trial that first claims its slot. Prints trials per second and checks
correctness: every trial number distinct, exactly the budget counted, nothing left running.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time

__all__ = ["measure", "main"]


def _worker(url: str, study_name: str, budget: int, seed: int, out, go) -> None:
    import optuna

    from bench.search.budget import budget_state, claim, counts, recover_stale_trials
    from bench.search.storage import open_storage
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(url)
    study = optuna.load_study(study_name=study_name, storage=storage,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    ran = errors = 0
    mine = []
    out.put("ready")
    go.wait()

    def objective(trial):
        if not claim(trial.study, trial.number, budget):
            raise RuntimeError("over budget")
        mine.append(trial._trial_id)
        x = trial.suggest_float("x", -10, 10)
        return x * x

    while True:
        recover_stale_trials(study)
        state = budget_state(study)
        if state.counted >= budget:
            break
        if state.waiting == 0 and state.counted + state.running >= budget:
            time.sleep(0.01)
            continue
        try:
            study.optimize(objective, n_trials=1, catch=(RuntimeError,))
        except Exception:  # noqa: BLE001 - a storage error is a result here
            errors += 1
            continue
    ran = sum(counts(storage.get_trial(i)) for i in mine)
    out.put((ran, errors))


def measure(kind: str, trials: int, workers: int, directory: str) -> dict:
    """One run of ``trials`` trials over ``workers`` processes on storage ``kind``."""
    import optuna

    from bench.search.budget import counted_trials
    from bench.search.storage import open_storage
    url = (os.path.join(directory, f"{kind}.journal") if kind == "journal"
           else f"sqlite:///{os.path.join(directory, f'{kind}.db')}")
    name = f"bench-{kind}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.create_study(study_name=name, storage=open_storage(url), direction="minimize")
    ctx = multiprocessing.get_context("spawn")
    out, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_worker, args=(url, name, trials, i, out, go))
             for i in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:  # interpreter start-up and imports are not the storage's: not timed
        assert out.get(timeout=300) == "ready"
    started = time.perf_counter()
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    seconds = time.perf_counter() - started
    for p in procs:
        p.join()
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    all_trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in all_trials]
    return {"storage": kind, "seconds": seconds, "trials_per_s": trials / seconds,
            "counted": len(counted_trials(study)), "budget": trials,
            "distinct_numbers": len(set(numbers)) == len(numbers),
            "running_left": sum(t.state.name == "RUNNING" for t in all_trials),
            "over_budget_trials": len(all_trials) - len(counted_trials(study)),
            "errors": sum(e for _, e in results), "ran": sum(r for r, _ in results),
            "exit_codes": [p.exitcode for p in procs]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    for kind in ("journal", "sqlite"):
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="bench-storage-") as d:
                runs.append(measure(kind, args.trials, args.workers, d))
        ok = all(r["counted"] == r["budget"] and r["distinct_numbers"] and not r["running_left"]
                 and r["ran"] == r["budget"] and not r["errors"]
                 and all(c == 0 for c in r["exit_codes"]) for r in runs)
        rate = [r["trials_per_s"] for r in runs]
        for r in runs:
            if not ok:
                print(f"  {r}", flush=True)
        rows.append((kind, statistics.median(rate), min(rate), max(rate), ok,
                     sum(r["over_budget_trials"] for r in runs)))
        print(f"{kind:8s} {args.workers} workers x {args.trials} trials, {args.repeat} runs: "
              f"median {statistics.median(rate):6.1f} trials/s (min {min(rate):.1f}, "
              f"max {max(rate):.1f}); exact budget, distinct numbers, none left running: "
              f"{'yes' if ok else 'NO'}; trials that lost the race for the last slots: "
              f"{rows[-1][5]}", flush=True)
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
