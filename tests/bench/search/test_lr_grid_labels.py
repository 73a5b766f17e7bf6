"""The lr-grid heat map labels its cells only where the labels fit."""

from bench.search.lr_grid import _labels_fit


def test_a_small_full_grid_is_labelled():
    cells = [(lr, ws, 1.0) for lr in (1e-3, 1e-2, 1e-1) for ws in (0.01, 0.05)]
    assert _labels_fit(cells)


def test_zipped_pairs_along_a_diagonal_are_not_labelled():
    cells = [(10 ** (-5 + i / 10), 0.01 + i * 0.0008, 1.0) for i in range(100)]
    assert not _labels_fit(cells)


def test_a_full_grid_too_fine_to_label_is_not_labelled():
    cells = [(10.0 ** e, ws / 100, 1.0) for e in range(-5, 11) for ws in range(1, 4)]
    assert not _labels_fit(cells)
