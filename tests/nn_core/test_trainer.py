import math
import warnings

import numpy as np
import pytest

from nn_core import (SGD, Linear, MeanSquaredError, Sequential, SoftmaxCrossEntropy, Step,
                     StopTraining, Trainer)


def classification_data(seed=0, n=40, d=5, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


def classifier(seed=0, layers=("dense:8", "tanh", "dense:3"), d=5, dtype="float32"):
    return Sequential(list(layers), input_dim=d, seed=seed, dtype=dtype)


def make_trainer(net, lr=0.1, loss=None, **kwargs):
    return Trainer(net, loss or SoftmaxCrossEntropy(), SGD(net.parameters(), lr=lr, momentum=0.9),
                   **kwargs)


# -- early stopping -----------------------------------------------------------------------------

@pytest.fixture
def overshooting_run():
    """One linear unit starting at w = b = 0, trained on y = 2x but validated on y = x: the
    validation loss falls while w approaches 1 and rises once w moves on towards 2."""
    net = Sequential(["dense:1"], input_dim=1, seed=0, dtype="float64")
    net.layers[0].W.value[...] = 0.0
    x = np.linspace(0.5, 1.5, 20)[:, None]
    snapshots = {}

    def snapshot(record, trainer):
        snapshots[record.epoch] = trainer.network.state_dict()

    trainer = Trainer(net, MeanSquaredError(), SGD(net.parameters(), lr=0.05), batch_size=20,
                      epochs=200, patience=3, callbacks=[snapshot])
    history = trainer.fit(x, 2 * x, x, x)
    return trainer, history, snapshots, x


def test_early_stopping_run_improves_then_worsens(overshooting_run):
    _, history, _, _ = overshooting_run
    val = history.column("val_loss")
    best = int(np.argmin(val))
    assert 0 < best < len(val) - 1
    assert all(a > b for a, b in zip(val[:best], val[1:best + 1]))
    assert all(a < b for a, b in zip(val[best:], val[best + 1:]))


def test_early_stopping_stops_patience_evaluations_after_the_best(overshooting_run):
    _, history, _, _ = overshooting_run
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch == int(np.argmin(history.column("val_loss"))) + 1
    assert history.epochs_run == history.best_epoch + 3


def test_without_patience_every_epoch_is_validated_and_the_best_restored(overshooting_run):
    _, _, _, x = overshooting_run
    net = Sequential(["dense:1"], input_dim=1, seed=0, dtype="float64")
    net.layers[0].W.value[...] = 0.0
    trainer = Trainer(net, MeanSquaredError(), SGD(net.parameters(), lr=0.05), batch_size=20,
                      epochs=60, eval_every=1, patience=None)
    history = trainer.fit(x, 2 * x, x, x)
    val = history.column("val_loss")
    assert history.epochs_run == 60 and history.stop_reason == "completed"
    assert all(math.isfinite(v) for v in val)
    assert history.best_epoch == int(np.argmin(val)) + 1 < 60
    assert trainer.evaluate(x, x)[0] == pytest.approx(min(val))


def _linear_unit_trainer(x, **kwargs):
    net = Sequential(["dense:1"], input_dim=1, seed=0, dtype="float64")
    net.layers[0].W.value[...] = 0.0
    return Trainer(net, MeanSquaredError(), SGD(net.parameters(), lr=0.05), batch_size=20,
                   epochs=200, **kwargs)


def test_notebook_rule_stops_at_the_first_ten_epoch_check_that_does_not_improve(overshooting_run):
    x = overshooting_run[3]
    every = _linear_unit_trainer(x, eval_every=1).fit(x, 2 * x, x, x).column("val_loss")
    checks = every[9::10]
    first_bad = next(k for k in range(1, len(checks)) if checks[k] >= min(checks[:k]))
    history = _linear_unit_trainer(x, eval_every=10, patience=1).fit(x, 2 * x, x, x)
    assert [r.epoch for r in history.evaluated()] == list(range(10, 10 * (first_bad + 1) + 1, 10))
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch == 10 * (int(np.argmin(checks[:first_bad])) + 1)


# -- divergence ---------------------------------------------------------------------------------

@pytest.mark.parametrize("loss, layers", [
    (MeanSquaredError(), ("dense:8", "relu", "dense:3")),
    (SoftmaxCrossEntropy(), ("dense:8", "relu", "dense:3")),
], ids=["mse", "softmax_ce"])
def test_huge_learning_rate_diverges_without_exception_or_warning(loss, layers):
    x, y = classification_data()
    net = classifier(layers=layers)
    trainer = Trainer(net, loss, SGD(net.parameters(), lr=1e5), batch_size=8, epochs=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = trainer.fit(x, y, x, y)
    assert history.diverged is True
    assert history.stop_reason.startswith("diverged")
    assert history.epochs_run < 50
    assert not math.isfinite(history.records[-1].train_loss)


def _diverge_later(epochs_ok):
    """A linear unit whose learning rate jumps to an exploding value after ``epochs_ok``
    stable epochs (a step schedule), validated on its training data."""
    net = Sequential(["dense:1"], input_dim=1, seed=0, dtype="float64")
    x = np.linspace(0.5, 1.5, 20)[:, None]
    def schedule(epoch):
        return 0.05 if epoch < epochs_ok else 1e6
    trainer = Trainer(net, MeanSquaredError(), SGD(net.parameters(), lr=0.05), batch_size=20,
                      epochs=50, schedule=schedule)
    return trainer, x


def test_diverged_run_is_rolled_back_to_its_best_checkpoint():
    trainer, x = _diverge_later(epochs_ok=5)
    history = trainer.fit(x, 2 * x, x, 2 * x)
    assert history.diverged is True
    assert history.best_epoch is not None and history.best_epoch <= 5
    weights = trainer.network.layers[0].W.value
    assert np.all(np.isfinite(weights))
    assert trainer.evaluate(x, 2 * x)[0] == pytest.approx(history.best_val_loss)


def test_run_that_diverges_before_any_validation_has_no_checkpoint():
    x, y = classification_data()
    net = classifier(layers=("dense:8", "relu", "dense:3"))
    trainer = Trainer(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=1e5), batch_size=8,
                      epochs=50, eval_every=10)
    history = trainer.fit(x, y, x, y)
    assert history.diverged is True
    assert history.best_epoch is None


def test_moderate_learning_rate_does_not_diverge():
    x, y = classification_data()
    history = make_trainer(classifier(), lr=0.05, epochs=5).fit(x, y)
    assert history.diverged is False
    assert history.stop_reason == "completed"


# -- callbacks ----------------------------------------------------------------------------------

def test_callbacks_receive_every_epoch_record_and_the_trainer():
    x, y = classification_data()
    seen = []
    trainer = make_trainer(classifier(), epochs=4, callbacks=[lambda r, t: seen.append((r, t))])
    history = trainer.fit(x, y, x, y)
    assert [r for r, _ in seen] == history.records
    assert all(r is h for (r, _), h in zip(seen, history.records))
    assert all(t is trainer for _, t in seen)
    assert [r.epoch for r, _ in seen] == [1, 2, 3, 4]


def test_stop_training_from_a_callback_stops_with_its_reason():
    x, y = classification_data()

    def stop_at_three(record, trainer):
        if record.epoch == 3:
            raise StopTraining("target reached")

    history = make_trainer(classifier(), epochs=10, callbacks=[stop_at_three]).fit(x, y)
    assert history.epochs_run == 3
    assert history.stop_reason == "target reached"


# -- learning-rate schedule ---------------------------------------------------------------------

def test_recorded_lr_follows_the_schedule_and_hits_both_ends():
    x, y = classification_data()
    history = make_trainer(classifier(), schedule=Linear(0.15, 0.05, 6), epochs=6).fit(x, y)
    lrs = history.column("lr")
    assert lrs[0] == 0.15 and lrs[-1] == 0.05
    assert lrs == pytest.approx([0.15 - 0.02 * e for e in range(6)], rel=1e-12)


def test_optimizer_uses_the_scheduled_lr_during_each_epoch():
    x, y = classification_data()
    used = []
    trainer = make_trainer(classifier(), schedule=Step(0.2, drop=0.5, every=2), epochs=5,
                           callbacks=[lambda r, t: used.append(t.optimizer.lr)])
    trainer.fit(x, y)
    assert used == [0.2, 0.2, 0.1, 0.1, 0.05]


def test_without_schedule_the_optimizer_lr_is_kept():
    x, y = classification_data()
    history = make_trainer(classifier(), lr=0.03, epochs=3).fit(x, y)
    assert history.column("lr") == [0.03, 0.03, 0.03]


# -- reproducibility ----------------------------------------------------------------------------

def _run(trainer_seed, net_seed=0):
    x, y = classification_data()
    net = classifier(seed=net_seed, layers=("dense:8", "relu", "dropout:0.7", "dense:3"))
    history = make_trainer(net, epochs=3, batch_size=8, seed=trainer_seed).fit(x, y, x, y)
    return history, net


def test_same_seed_gives_identical_records_and_weights():
    (h1, n1), (h2, n2) = _run(3), _run(3)
    for name in ("train_loss", "val_loss", "val_accuracy", "lr"):
        assert np.array_equal(h1.column(name), h2.column(name))
    assert all(np.array_equal(a.value, b.value) for a, b in zip(n1.parameters(), n2.parameters()))


def test_different_trainer_seed_shuffles_differently():
    (h1, _), (h2, _) = _run(3), _run(4)
    assert not np.array_equal(h1.column("train_loss"), h2.column("train_loss"))


# -- data checks --------------------------------------------------------------------------------

def test_fit_with_mismatched_input_and_target_counts_raises():
    x, y = classification_data()
    with pytest.raises(ValueError, match="40 inputs but 39 targets"):
        make_trainer(classifier()).fit(x, y[:-1])


def test_fit_with_wrong_input_width_raises():
    x, y = classification_data(d=4)
    with pytest.raises(ValueError, match=r"shape \(n, 5\), got \(40, 4\)"):
        make_trainer(classifier(d=5)).fit(x, y)


def test_fit_with_bad_validation_data_raises():
    x, y = classification_data()
    with pytest.raises(ValueError, match="validation data"):
        make_trainer(classifier()).fit(x, y, x[:5], y[:4])


def test_fit_on_empty_data_raises():
    x, y = classification_data()
    with pytest.raises(ValueError, match="empty"):
        make_trainer(classifier()).fit(x[:0], y[:0])
