"""The full protocol stays fast: validation's share of an epoch, and a quick run's start-up.

* validation: for every arm of the default ablation (its own config, mnist-5k), one
  training epoch (``Trainer._train_epoch``, what ``fit`` runs per epoch) and one validation
  (``Trainer.evaluate`` on the validation rows, what ``fit`` adds per epoch under the
  every-epoch protocol), timed alternately in this process, CPU time, medians;
* start-up: ``python -m bench run ablation --quick`` in a new empty directory, wall and CPU
  (this command and its workers), repeated; then where a fresh interpreter's time goes,
  each piece in its own fresh interpreter: importing what the command imports, creating a
  new SQLite store (MLflow's migrations) against copying the migrated empty template
  (``bench.tracking``), and loading mnist-5k.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

__all__ = ["validation_share", "quick_run_startup", "QUICK_TARGET_S", "VALIDATION_TARGET"]

QUICK_TARGET_S = 8.0
VALIDATION_TARGET = 0.05


def validation_share(repeats: int = 3) -> dict:
    import numpy as np

    from bench.runner import load_data, run_seed
    from experiments import get_experiment
    from nn_core import Trainer

    from .machine import blas_limits
    exp = get_experiment("ablation")
    arms = {}
    with blas_limits(1), np.errstate(all="ignore"):
        for arm in exp.arms:
            cfg = arm.config
            data = load_data(cfg.dataset, 0, cfg.standardize, None, cfg.dtype)
            net, loss, opt, _ = cfg.build(data.n_features, data.n_classes, run_seed(
                exp.name, arm.name, 0))
            trainer = Trainer(net, loss, opt, batch_size=cfg.batch_size, epochs=1)
            x = np.ascontiguousarray(data.x_train, dtype=net.dtype)
            bs = min(cfg.batch_size, x.shape[0])
            xbuf, ybuf = np.empty((bs, x.shape[1]), x.dtype), np.empty(bs, data.y_train.dtype)
            train, val = [], []
            for i in range(repeats + 1):
                pair = [(train, lambda: trainer._train_epoch(x, data.y_train, xbuf, ybuf)),
                        (val, lambda: trainer.evaluate(data.x_val, data.y_val))]
                for times, fn in (pair if i % 2 else pair[::-1]):
                    t = time.process_time()
                    fn()
                    if i:
                        times.append(time.process_time() - t)
            arms[arm.name] = {"epoch_cpu_s": statistics.median(train),
                              "validation_cpu_s": statistics.median(val),
                              "val_rows": int(len(data.y_val)),
                              "train_rows": int(len(data.y_train))}
    shares = [a["validation_cpu_s"] / a["epoch_cpu_s"] for a in arms.values()]
    total = (sum(a["validation_cpu_s"] for a in arms.values())
             / sum(a["epoch_cpu_s"] for a in arms.values()))
    return {"arms": arms, "share_overall": total, "share_max": max(shares),
            "target": VALIDATION_TARGET}


def _child(argv, cwd, env=None) -> dict:
    before = os.times()
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return {"wall_s": time.perf_counter() - started, "cpu_s": cpu,
            "returncode": proc.returncode, "stderr": proc.stderr[-500:] if proc.returncode else "",
            "load": os.getloadavg()[0]}


_PIECES = {
    "import (bench.cli, bench.session, MLflow, scipy.stats, pandas, matplotlib)":
        "import bench.cli, bench.session, mlflow, scipy.stats, pandas, matplotlib.pyplot",
    "new SQLite store, MLflow migrating it":
        "import os, mlflow\nfrom mlflow.tracking import MlflowClient\nimport time\n"
        "t = time.process_time()\n"
        "MlflowClient(tracking_uri='sqlite:///' + os.path.abspath('m.db')).search_experiments()\n"
        "print(time.process_time() - t)",
    "new SQLite store from the migrated template (bench.tracking)":
        "import os, mlflow\nfrom bench.tracking import Tracker\nimport time\n"
        "t = time.process_time()\n"
        "Tracker('sqlite:///' + os.path.abspath('t.db')).client.search_experiments()\n"
        "print(time.process_time() - t)",
    "load mnist-5k":
        "import bench.runner, time\nt = time.process_time()\n"
        "bench.runner.load_data('mnist-5k', 0, 'global', None, 'float32')\n"
        "print(time.process_time() - t)",
}


def _piece(code: str, env) -> float:
    """CPU seconds of a piece in a fresh interpreter: what it prints, or the whole child."""
    with tempfile.TemporaryDirectory(prefix="perf-piece-") as tmp:
        before = os.times()
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp, env=env, text=True,
                             capture_output=True, check=True).stdout.strip()
        after = os.times()
    if out:
        return float(out.splitlines()[-1])
    return (after.children_user - before.children_user
            + after.children_system - before.children_system)


def quick_run_startup(repeats: int = 3) -> dict:
    """See the module doc. The template cache lives in a temporary folder made here (warmed
    by one run first, as it is on any machine after the first store), never the user's."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="perf-quick-") as tmp:
        env = dict(os.environ, BENCH_STORE_TEMPLATE_DIR=os.path.join(tmp, "template"),
                   PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        argv = [sys.executable, "-m", "bench", "run", "ablation", "--quick"]
        runs = []
        for i in range(repeats + 1):  # the first one makes the template (and warms caches)
            cwd = os.path.join(tmp, f"run{i}")
            os.makedirs(cwd)
            result = _child(argv, cwd, env)
            if result["returncode"]:
                raise RuntimeError(f"bench run ablation --quick failed: {result['stderr']}")
            runs.append(result)
        pieces = {name: [] for name in _PIECES}
        for _ in range(repeats):
            for name, code in _PIECES.items():
                pieces[name].append(_piece(code, env))
    timed = runs[1:]
    return {"first_run": runs[0], "runs": timed, "target_s": QUICK_TARGET_S,
            "wall_median_s": statistics.median(r["wall_s"] for r in timed),
            "cpu_median_s": statistics.median(r["cpu_s"] for r in timed),
            "pieces_cpu_s": {k: statistics.median(v) for k, v in pieces.items()}}
