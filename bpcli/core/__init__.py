"""The core: the graph, the op table, the forward and backward passes."""
