"""The symbolic way to do `bpcli batch FILE --format jsonl`: SymPy, one problem at a time.

Each line of FILE is one problem (`w0=2.0; …; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))`). Per
problem: the right-hand sides are parsed with sympify (a statement that is a number binds
that variable; any other defines its name as an expression of the earlier ones), the output
is differentiated with respect to every named variable, and each derivative is evaluated at
the bound values. One JSON line per problem, like micrograd_baseline.py's.

Usage: python sympy_baseline.py FILE [--limit N]   (--limit 0: only import SymPy)
"""

from __future__ import annotations

import sys

import sympy
from baseline_io import run, statements


def solve(text: str) -> tuple[str, float, dict[str, float]]:
    values: dict[sympy.Symbol, float] = {}
    exprs: dict[str, sympy.Expr] = {}
    output = ""
    for name, number, rhs in statements(text):
        if number is None:
            exprs[name] = sympy.sympify(rhs, locals=dict(exprs))
        else:
            symbol = sympy.Symbol(name)
            values[symbol] = number
            exprs[name] = symbol
        output = name
    f = exprs[output]
    grads = {}
    for name, expr in exprs.items():
        if name == output:
            grads[name] = 1.0
        elif isinstance(expr, sympy.Symbol):
            grads[name] = float(sympy.diff(f, expr).evalf(subs=values))
        # an intermediate name is an expression, not a symbol: no gradient in this baseline
    return output, float(f.evalf(subs=values)), grads


if __name__ == "__main__":
    run(sys.argv[1:], solve)
