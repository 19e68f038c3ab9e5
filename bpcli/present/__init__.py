"""Presenters: pure functions from a computed graph to text, one module per format."""
