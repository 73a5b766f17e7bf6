"""Fault, load and bad-input tests of the harness (a package, so its helper modules cannot
collide with same-named modules of sibling test folders)."""
