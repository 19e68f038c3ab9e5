"""A tiny micrograd-style scalar autograd, the baseline for `bpcli batch FILE --format jsonl`.

Each line of FILE is one problem, as bpcli batch reads it:

    w0=2.0; x0=-1.0; w1=-3.0; x1=-2.0; w2=-3.0; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))

The line is split on `;`. A statement `name=number` binds a leaf Value; any other
`name = expr` is evaluated with Python's own `eval` on Value objects (the namespace has
`exp`), so the operators build the graph. The last statement's name is the output: a
backward pass from it (an iterative topological sort, no recursion) fills every Value's
gradient, and one JSON line per problem is written (one json.dumps per record, buffered
stdout) with the output's value and the gradient of every named variable, as bpcli's
records have them. Blank lines and lines starting with # are skipped. A line may also be a
JSON record {"program": "...", "bindings": {"x0": 1.5, ...}} (the distinct benchmark's):
each binding is then a leaf Value, bound before the program's statements.

Usage: python micrograd_baseline.py FILE [--limit N]
"""

from __future__ import annotations

import math
import sys

from baseline_io import run, statements


class Value:
    """A scalar, its gradient, and how it was made: the Values it came from and the local
    derivative of this one with respect to each."""

    __slots__ = ("data", "grad", "locals", "parents")

    def __init__(self, data: float, parents: tuple[Value, ...] = (), local: tuple[float, ...] = ()) -> None:
        self.data = data
        self.grad = 0.0
        self.parents = parents
        self.locals = local

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    __rmul__ = __mul__

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), (-1.0,))

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        return Value(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other: float) -> Value:
        return Value(float(other)) - self

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        b = other.data
        return Value(self.data / b, (self, other), (1.0 / b, -self.data / (b * b)))

    def __rtruediv__(self, other: float) -> Value:
        return Value(float(other)) / self

    def __pow__(self, k: float) -> Value:
        if isinstance(k, Value):
            raise TypeError("only constant exponents")
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def backward(self) -> None:
        """Topological order by an iterative depth-first search, then the chain rule."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for parent in node.parents:
                if id(parent) not in seen:
                    stack.append((parent, False))
        self.grad = 1.0
        for node in reversed(order):
            g = node.grad
            for parent, local in zip(node.parents, node.locals, strict=True):
                parent.grad += local * g


def exp(v: Value | float) -> Value:
    v = v if isinstance(v, Value) else Value(float(v))
    e = math.exp(v.data)
    return Value(e, (v,), (e,))


GLOBALS = {"__builtins__": {}, "exp": exp}


def solve(text: str, bindings: dict[str, float] | None = None) -> tuple[str, float, dict[str, float]]:
    names: dict[str, Value] = {}
    if bindings:
        for name, number in bindings.items():
            names[name] = Value(float(number))
    output = ""
    for name, number, rhs in statements(text):
        if number is not None:
            value = Value(number)
        else:
            value = eval(rhs, GLOBALS, names)
            if not isinstance(value, Value):
                value = Value(float(value))
        names[name] = value
        output = name
    out = names[output]
    out.backward()
    return output, out.data, {name: v.grad for name, v in names.items()}


if __name__ == "__main__":
    run(sys.argv[1:], solve)
