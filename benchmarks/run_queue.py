"""What does the run queue cost per run, and how many database connections does a worker hold?

    python -m benchmarks.run_queue --storage postgresql://USER:PW@HOST/DB [--workers 1,2,4,8]
                                   [--runs 64] [--repeat 3]

Puts ``--runs`` trivial runs on a fresh run queue and lets W worker processes take them the
way ``bench worker`` does (recover stale runs, take one, heartbeat while it "runs", settle
it), with no training and no MLflow, so the queue is all that is timed. Every repeat uses a
schema of its own in the database (PostgreSQL only). Prints, per W: the wall time, the queue's
seconds per run summed over workers (W x wall / runs), the workers' CPU time per run (what
the queue costs whatever else loads the machine), runs per second, and the most
connections the workers held at once (from ``pg_stat_activity``, by application name), and
checks that every run was taken exactly once and nothing is left running.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
import uuid

__all__ = ["measure", "main"]


def _worker(url: str, name: str, out, go) -> None:
    from bench.queue.runqueue import RunQueue, has_work, open_queue_storage
    queue = RunQueue(open_queue_storage(url), name)
    interval = queue.storage.get_heartbeat_interval() or 5
    taken = []
    out.put("ready")
    go.wait()
    cpu = time.process_time()
    while True:
        queue.recover_stale()
        item = queue.take()
        if item is None:
            if not has_work(queue.storage, queue.study_id):
                break
            time.sleep(0.05)
            continue
        with queue.heartbeat(item, interval):
            queue.settle(item, "finished")
        taken.append(item.attrs["key"])
    out.put((taken, time.process_time() - cpu))


def _sql(url: str, statement: str):
    import psycopg2
    conn = psycopg2.connect(url, connect_timeout=10)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute(statement)
        return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _connections(url: str, application: str) -> int:
    """Connections the workers hold (by their application name: other clients of the same
    server do not count)."""
    return _sql(url, f"SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                     f"'{application}'")[0][0]


def measure(url: str, workers: int, runs: int) -> dict:
    from bench.queue.runqueue import RunQueue, open_queue_storage
    schema = f"bench_queue_{uuid.uuid4().hex[:8]}"
    _sql(url, f"CREATE SCHEMA {schema}")
    application = schema
    scoped = (f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
              f"&application_name={application}")
    try:
        queue = RunQueue.create(open_queue_storage(scoped), "bench-run.benchmark")
        queue.put_runs([("arm", i, f"bench/arm/seed-{i}") for i in range(runs)])
        queue.storage.engine.dispose()  # the workers fork: they must not share its sockets
        ctx = multiprocessing.get_context("fork")
        out, go = ctx.Queue(), ctx.Event()
        procs = [ctx.Process(target=_worker, args=(scoped, queue.name, out, go))
                 for _ in range(workers)]
        for p in procs:
            p.start()
        for _ in procs:
            assert out.get(timeout=120) == "ready"
        peak, done = [0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], _connections(url, application))
                time.sleep(0.05)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        go.set()
        results = [out.get(timeout=600) for _ in procs]
        wall = time.perf_counter() - started
        taken = [key for keys, _ in results for key in keys]
        cpu = sum(seconds for _, seconds in results)
        done.set()
        sampler.join()
        for p in procs:
            p.join(30)
        assert sorted(taken) == sorted(f"bench/arm/seed-{i}" for i in range(runs)), "a run was lost or taken twice"
        assert not queue.live_keys(), "runs left waiting or running"
        return {"workers": workers, "wall": wall, "per_run": wall * workers / runs,
                "cpu_per_run": cpu / runs,
                "rate": runs / wall, "connections": peak[0]}
    finally:
        _sql(url, f"DROP SCHEMA {schema} CASCADE")


def _tracking_worker(uri: str, experiment_id: str, runs: int, out, go) -> None:
    from bench.tracking import Tracker
    tracker = Tracker(uri)
    tracker.client.get_experiment(experiment_id)  # connect before the clock starts
    out.put("ready")
    go.wait()
    for i in range(runs):
        run_id = tracker.start_run(experiment_id, f"arm/seed-{i}", tags={"bench.kind": "run"})
        tracker.log_params(run_id, {f"p{k}": k for k in range(25)})
        series = [(m, 0.5, e) for e in range(20) for m in ("train_loss", "val_loss", "val_accuracy")]
        tracker.log_metrics(run_id, series + [(f"final_{k}", 1.0, 0) for k in range(8)],
                            tags={f"bench.t{k}": "x" for k in range(6)})
        tracker.end(run_id, "FINISHED")
    out.put(runs)


def measure_tracking(uri: str, workers: int, runs: int) -> float:
    """Runs per second the tracking server records when ``workers`` processes each log
    ``runs`` runs shaped like a 20-epoch harness run (params, 68 metric points, tags)."""
    from bench.tracking import Tracker
    experiment_id = Tracker(uri).experiment_id(f"queue-benchmark-{uuid.uuid4().hex[:8]}")
    ctx = multiprocessing.get_context("fork")
    out, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_tracking_worker, args=(uri, experiment_id, runs, out, go))
             for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        assert out.get(timeout=120) == "ready"
    started = time.perf_counter()
    go.set()
    total = sum(out.get(timeout=600) for _ in procs)
    wall = time.perf_counter() - started
    for p in procs:
        p.join(30)
    return total / wall


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--storage", default=os.environ.get("BENCH_TEST_POSTGRES_URL"),
                   help="a PostgreSQL URL (default $BENCH_TEST_POSTGRES_URL)")
    p.add_argument("--workers", default="1,2,4,8", help="worker process counts to time, comma-separated")
    p.add_argument("--runs", type=int, default=64, help="trivial runs per queue (default 64)")
    p.add_argument("--repeat", type=int, default=3, help="repeats per count; medians reported")
    p.add_argument("--tracking-uri", help="also measure this MLflow server's runs per second")
    args = p.parse_args(argv)
    from bench.progress import quiet_library_noise
    quiet_library_noise()  # no "View run at" line per run from MLflow's client
    if not args.storage or not args.storage.startswith("postgresql"):
        p.error("--storage must be a postgresql:// URL")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print("| worker processes | wall s (median) | queue s per run, summed over workers | "
          "workers' CPU per run | runs/s | connections held (peak) |\n|---|---|---|---|---|---|")
    for w in (int(x) for x in args.workers.split(",")):
        rows = [measure(args.storage, w, args.runs) for _ in range(args.repeat)]
        med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
        print(f"| {w} | {med('wall'):.2f} | {med('per_run') * 1000:.0f} ms | "
              f"{med('cpu_per_run') * 1000:.0f} ms | {med('rate'):.1f} "
              f"| {max(r['connections'] for r in rows)} |", flush=True)
    if args.tracking_uri:
        print("\n| client processes | MLflow runs recorded per second |\n|---|---|")
        for w in (int(x) for x in args.workers.split(",")):
            print(f"| {w} | {measure_tracking(args.tracking_uri, w, max(2, args.runs // w)):.1f} |",
                  flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
