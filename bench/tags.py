"""The MLflow vocabulary of the harness: every ``bench.*`` tag key, named once.

Runs are found again by these tags (a parent by its structure hash, a child by its run key,
a search by its key), so a key spelled two ways would lose runs: spell them through here.
"""

from __future__ import annotations

__all__ = ["ARM", "ATTEMPTS", "BLAS", "BLAS_KERNEL", "STREAMS", "BLAS_THREADS_PER_RUN", "BOOT_ID", "COMMAND",
           "CREATE_TOKEN", "DATASET", "DATASET_DESCRIPTION", "DATASET_FINGERPRINT", "DIVERGED",
           "ERROR", "EXPERIMENT", "FAILED_RUNS", "GIT_COMMIT", "GIT_DIRTY", "HOST",
           "INFINITE_METRICS", "INVOCATION", "VERDICT_VS_PREVIOUS", "VERDICT_VS_BASELINE",
           "COMPARED_WITH", "BEST_ARM", "PUBLISHED", "KILLED_REASON", "KIND", "LAST_COMMAND", "MACHINE", "PARENT_KEY",
           "PID", "PROCESS_START", "QUEUE", "RETRY_OF", "RUN_KEY", "SEARCH_KEY", "SEED", "STOP_REASON",
           "STORAGE", "STRUCTURE_HASH", "STUDY", "SUPERSEDED_BY", "TRACEBACK", "TRIAL_KEY",
           "TRIALS_COUNTED", "VARIANT", "CONFIG_KIND", "RESULTS_SUBDIR", "TRIALS", "VERSION", "PREFIX",
           "TARGET_ACCURACY", "TARGET_REACHED", "STUDY_INDEX", "SPACE",
           "OWNER_TAGS", "PARENT_RUN_ID", "NOTE", "EXPERIMENT_KIND", "MODEL_TRAINING"]

ARM = "bench.arm"
ATTEMPTS = "bench.attempts"
BLAS = "bench.blas"
BLAS_KERNEL = "bench.blas_kernel"       # per run: library, version and CPU kernel
BLAS_THREADS_PER_RUN = "bench.blas_threads_per_run"
BOOT_ID = "bench.boot_id"
COMMAND = "bench.command"
CREATE_TOKEN = "bench.create_token"
DATASET = "bench.dataset"
DATASET_DESCRIPTION = "bench.dataset_description"
DATASET_FINGERPRINT = "bench.dataset_fingerprint"
DIVERGED = "bench.diverged"
ERROR = "bench.error"
EXPERIMENT = "bench.experiment"
FAILED_RUNS = "bench.failed_runs"
GIT_COMMIT = "bench.git_commit"
GIT_DIRTY = "bench.git_dirty"
HOST = "bench.host"
INFINITE_METRICS = "bench.infinite_metrics"
KILLED_REASON = "bench.killed_reason"
KIND = "bench.kind"                     # parent, arm, run (or a search's kinds)
VERDICT_VS_PREVIOUS = "bench.verdict_vs_previous"   # on arm runs, from the report
VERDICT_VS_BASELINE = "bench.verdict_vs_baseline"
COMPARED_WITH = "bench.compared_with"
PUBLISHED = "bench.published"           # on a parent: its tables were written (UTC time)
BEST_ARM = "bench.best_arm"               # on a reported parent: the arm with the best mean
INVOCATION = "bench.invocation"         # on arm and seed runs: their invocation's parent run
LAST_COMMAND = "bench.last_command"
MACHINE = "bench.machine"
PARENT_KEY = "bench.parent_key"
PID = "bench.pid"
PROCESS_START = "bench.process_start"
QUEUE = "bench.queue"                   # on runs taken from a shared run queue: its name
RETRY_OF = "bench.retry_of"
RUN_KEY = "bench.run_key"
SEARCH_KEY = "bench.search_key"
SEED = "bench.seed"
STREAMS = "bench.streams"               # per run: how its random numbers were drawn
STOP_REASON = "bench.stop_reason"
STORAGE = "bench.storage"
STRUCTURE_HASH = "bench.structure_hash"
STUDY = "bench.study"
SUPERSEDED_BY = "bench.superseded_by"
TRACEBACK = "bench.traceback"
TRIAL_KEY = "bench.trial_key"
TRIALS_COUNTED = "bench.trials_counted"
VARIANT = "bench.variant"
CONFIG_KIND = "bench.config_kind"     # default | quick | custom (see bench.locations)
RESULTS_SUBDIR = "bench.results_subdir"  # where its tables went, under the results root
TARGET_ACCURACY = "bench.target_accuracy"  # per run: its data set's validation target (bench.targets)
TARGET_REACHED = "bench.target_reached"    # "true" / "false" (censored at epochs_run)
STUDY_INDEX = "bench.study_index"          # a search's arm run: which of the repeated studies
SPACE = "bench.space"                      # a search: lr or full (experiments.search_space)

# Families of keys: bench.trials_<state> (an arm search's trial counts), bench.version.<pkg>
# (package versions), bench.<git field> (git_commit, git_dirty).
TRIALS = "bench.trials_"
VERSION = "bench.version."
PREFIX = "bench."

# Who holds a run (see bench.resume): host, pid, process start time, boot id.
OWNER_TAGS = (HOST, PID, PROCESS_START, BOOT_ID)

# MLflow's own tags that the harness sets.
PARENT_RUN_ID = "mlflow.parentRunId"
NOTE = "mlflow.note.content"
# MLflow 3 opens an experiment by its kind: a model-training one shows its runs, not the GenAI
# traces overview.
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"
