"""Presenters: pure functions from a computed graph to text, one module per format."""

GRAD_FORMATS = ("table", "json", "steps", "tree", "dot", "markdown", "latex", "csv")
PICTURES = (".svg", ".png", ".pdf")  # --output files that Graphviz draws
