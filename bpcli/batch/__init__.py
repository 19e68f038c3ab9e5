"""Batch: many problems through one solver, records out in order."""
