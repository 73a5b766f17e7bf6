"""bench: seeded, tracked ablation studies of small numpy neural networks."""
