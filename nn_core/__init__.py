"""A small, correct and fast numpy neural-network core.

No tracking, no search, no I/O beyond weight files: the harness attaches those as callbacks.
"""

from .history import EpochRecord, History, StopTraining
from .initializers import INITIALIZERS, get_initializer
from .layers import (ACTIVATIONS, LAYERS, BatchNorm, Dense, Dropout, Identity, Layer, LeakyReLU,
                     ReLU, ReLU6, Sigmoid, Tanh, layer_from_spec)
from .losses import LOSSES, Loss, MeanSquaredError, SoftmaxCrossEntropy, accuracy, get_loss
from .network import Sequential
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, RMSprop, make_optimizer
from .parameter import Parameter
from .rng import generator, seed_sequence
from .schedules import (SCHEDULES, Constant, Cosine, Exponential, Linear, Schedule, Step,
                        make_schedule)
from .trainer import Callback, Trainer

__all__ = [
    "EpochRecord", "History", "StopTraining",
    "INITIALIZERS", "get_initializer",
    "ACTIVATIONS", "LAYERS", "BatchNorm", "Dense", "Dropout", "Identity", "Layer", "LeakyReLU",
    "ReLU", "ReLU6", "Sigmoid", "Tanh", "layer_from_spec",
    "LOSSES", "Loss", "MeanSquaredError", "SoftmaxCrossEntropy", "accuracy", "get_loss",
    "Sequential",
    "OPTIMIZERS", "SGD", "Adam", "Optimizer", "RMSprop", "make_optimizer",
    "Parameter", "generator", "seed_sequence",
    "SCHEDULES", "Constant", "Cosine", "Exponential", "Linear", "Schedule", "Step", "make_schedule",
    "Callback", "Trainer",
]
