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


def test_early_stopping_restores_the_best_weights(overshooting_run):
    trainer, history, snapshots, x = overshooting_run
    best = snapshots[history.best_epoch]
    state = trainer.network.state_dict()
    assert all(np.array_equal(state[k], best[k]) for k in best)
    assert not np.array_equal(state["0.W"], snapshots[history.epochs_run]["0.W"])


def test_after_early_stopping_validation_loss_equals_the_best_recorded(overshooting_run):
    trainer, history, _, x = overshooting_run
    assert trainer.evaluate(x, x)[0] == history.best_val_loss == min(history.column("val_loss"))


def test_restore_best_false_keeps_the_last_weights():
    net = Sequential(["dense:1"], input_dim=1, seed=0, dtype="float64")
    net.layers[0].W.value[...] = 0.0
    x = np.linspace(0.5, 1.5, 20)[:, None]
    trainer = Trainer(net, MeanSquaredError(), SGD(net.parameters(), lr=0.05), batch_size=20,
                      epochs=200, patience=3, restore_best=False)
    history = trainer.fit(x, 2 * x, x, x)
    assert trainer.evaluate(x, x)[0] == history.records[-1].val_loss > history.best_val_loss


def test_min_delta_counts_small_improvements_as_no_improvement():
    x, y = classification_data()
    history = make_trainer(classifier(), lr=0.01, epochs=50, patience=2, min_delta=1e9).fit(x, y, x, y)
    assert history.best_epoch == 1
    assert history.epochs_run == 3


def test_patience_without_validation_data_raises():
    x, y = classification_data()
    with pytest.raises(ValueError, match="needs validation data"):
        make_trainer(classifier(), patience=2).fit(x, y)


# -- evaluation schedule ------------------------------------------------------------------------

def test_eval_every_k_evaluates_every_kth_epoch_and_the_last():
    x, y = classification_data()
    history = make_trainer(classifier(), epochs=10, eval_every=3).fit(x, y, x, y)
    evaluated = [r.epoch for r in history.records if not math.isnan(r.val_loss)]
    assert evaluated == [3, 6, 9, 10]
    assert [r.epoch for r in history.evaluated()] == evaluated


def test_without_validation_data_no_epoch_is_evaluated():
    x, y = classification_data()
    history = make_trainer(classifier(), epochs=3).fit(x, y)
    assert history.epochs_run == 3
    assert all(math.isnan(v) for v in history.column("val_loss"))


def test_recorded_validation_metrics_are_loss_and_accuracy_of_the_network():
    x, y = classification_data()
    trainer = make_trainer(classifier(), epochs=4, restore_best=False)
    history = trainer.fit(x, y, x[:15], y[:15])
    net = trainer.network
    out = net.forward(x[:15].astype(np.float32), training=False)
    assert history.records[-1].val_accuracy == np.mean(out.argmax(axis=1) == y[:15])
    assert history.records[-1].val_loss == pytest.approx(SoftmaxCrossEntropy().value(out, y[:15]), rel=1e-6)


def test_train_loss_is_the_batch_size_weighted_mean_over_the_epoch():
    x, y = classification_data(n=10)
    net = classifier(dtype="float64")
    full_loss = SoftmaxCrossEntropy().value(net.forward(x, training=False), y)
    # lr 0 keeps the weights fixed; batches of 4, 4 and 2 rows must average to the full loss.
    trainer = Trainer(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.0), batch_size=4,
                      epochs=1)
    assert trainer.fit(x, y).records[0].train_loss == pytest.approx(full_loss, rel=1e-13)


def test_batch_size_larger_than_the_data_trains_on_one_batch():
    x, y = classification_data(n=10)
    history = make_trainer(classifier(), batch_size=64, epochs=2).fit(x, y)
    assert history.epochs_run == 2 and all(math.isfinite(v) for v in history.column("train_loss"))


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
