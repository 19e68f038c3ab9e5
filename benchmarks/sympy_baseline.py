"""The symbolic way to do `bpcli batch FILE --format jsonl`: SymPy, one problem at a time.

Each line of FILE is one problem (`w0=2.0; …; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))`). Per
problem: the right-hand sides are parsed with sympify (a statement that is a number binds
that variable; any other defines its name as an expression of the earlier ones), the output
is differentiated with respect to every named variable, and each derivative is evaluated at
the bound values. One JSON line per problem, like micrograd_baseline.py's.

Usage: python sympy_baseline.py FILE [--limit N]   (--limit 0: only import SymPy)
"""

from __future__ import annotations

import json
import sys

import sympy


def solve(text: str) -> tuple[str, float, dict[str, float]]:
    values: dict[sympy.Symbol, float] = {}
    exprs: dict[str, sympy.Expr] = {}
    output = ""
    for statement in text.split(";"):
        name, _, rhs = statement.partition("=")
        name, rhs = name.strip(), rhs.strip()
        if not name:
            continue
        try:
            number = float(rhs)
        except ValueError:
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


def main(argv: list[str]) -> None:
    path = argv[0]
    limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv else None
    write = sys.stdout.write
    done = 0
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            if limit is not None and done >= limit:
                break
            output, value, grads = solve(text)
            write(json.dumps({"source": path, "line": number, "output": output, "value": value,
                              "grads": grads}, separators=(",", ":")) + "\n")
            done += 1
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
