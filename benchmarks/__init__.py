"""Performance benchmarks of nn_core: epoch time against its matrix-product floor, and peers."""
