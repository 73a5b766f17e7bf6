"""The main job on many machines: ``bench run --storage URL`` queues its (arm, seed) runs on
an Optuna RDB storage, and ``bench worker --storage URL`` anywhere takes them (see README,
"On several machines")."""

from .coordinator import SharedQueue, reconcile
from .runqueue import RunQueue, list_queues, open_queue_storage, queue_name
from .worker import serve, summary

__all__ = ["SharedQueue", "reconcile", "RunQueue", "list_queues", "open_queue_storage",
           "queue_name", "serve", "summary"]
