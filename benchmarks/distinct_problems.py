"""Random problems that share no structure, for the distinct batch benchmark (issue 20).

Each problem is one JSON Lines record, as `bpcli batch` reads it:

    {"program": "h = exp(x1)*x0; f = (h - 2.5)/x2**2 + x1", "bindings": {"x0": 1.25, ...}}

with 2–6 inputs x0…x5 (each used at least once, each bound to a number in [-2, 2]), a
random expression of 4–14 leaves over `+ - * /`, `exp` and the powers 2 and 3, most often
with an intermediate statement `h = …`, and the output `f`. No two problems share a
structure: the program with its constants blanked out is different on every line. Every problem is
solvable: each intermediate value is evaluated here (plain floats) and a draw whose
values grow beyond 1e6, or that divides by something near 0, is drawn again.

Only the standard library; seeded, so the same file every run.

    python3 benchmarks/distinct_problems.py N SEED FILE
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from pathlib import Path

# The precedence of each form (higher binds tighter): + -, * /, a power, an atom.
SUM, PRODUCT, POWER, ATOM = 1, 2, 3, 4
OPS = {"+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT}
LARGEST = 1e6  # any larger intermediate value redraws the problem
NEAREST_ZERO = 0.05  # a smaller divisor redraws the problem

Node = tuple[str, float, int]  # text, value, precedence


class Redraw(Exception):
    """The draw overflowed or divided by almost zero: draw the problem again."""


def _check(value: float) -> float:
    if not math.isfinite(value) or abs(value) > LARGEST:
        raise Redraw
    return value


def _binary(op: str, a: Node, b: Node) -> Node:
    prec = OPS[op]
    left = a[0] if a[2] >= prec else f"({a[0]})"
    # a - (b + c), a / (b * c): the right operand of - and / keeps its parentheses
    right = b[0] if b[2] > prec or (b[2] == prec and op in "+*") else f"({b[0]})"
    x, y = a[1], b[1]
    if op == "/" and abs(y) < NEAREST_ZERO:
        raise Redraw
    value = x + y if op == "+" else x - y if op == "-" else x * y if op == "*" else x / y
    return f"{left}{op}{right}", _check(value), prec


def _unary(rng: random.Random, a: Node) -> Node:
    if rng.random() < 0.5:
        if a[1] > 12:
            raise Redraw
        return f"exp({a[0]})", _check(math.exp(a[1])), ATOM
    k = rng.choice((2, 3))
    base = a[0] if a[2] == ATOM else f"({a[0]})"
    return f"{base}**{k}", _check(a[1] ** k), POWER


def draw(rng: random.Random) -> tuple[str, dict[str, float]]:
    """One problem: its program text and its bindings."""
    while True:
        k = rng.randint(2, 6)
        names = [f"x{i}" for i in range(k)]
        values = {n: round(rng.choice((-1, 1)) * rng.uniform(0.1, 2.0), 3) for n in names}
        leaves: list[Node] = [(n, values[n], ATOM) for n in names]
        for _ in range(rng.randint(2, 8)):  # a few more leaves: an input again, or a constant
            if rng.random() < 0.5:
                n = rng.choice(names)
                leaves.append((n, values[n], ATOM))
            else:
                c = round(rng.uniform(0.5, 4.0), rng.choice((0, 1, 2)))
                leaves.append((repr(c) if c != int(c) else str(int(c)), c, ATOM))
        statements: list[str] = []
        try:
            while len(leaves) > 1:
                a = leaves.pop(rng.randrange(len(leaves)))
                b = leaves.pop(rng.randrange(len(leaves)))
                node = _binary(rng.choice("+-*/"), a, b)
                if rng.random() < 0.25:
                    node = _unary(rng, node)
                if not statements and len(leaves) >= 1 and rng.random() < 0.3:
                    statements.append(f"h = {node[0]}")
                    node = ("h", node[1], ATOM)
                leaves.append(node)
            text = leaves[0][0]
            if rng.random() < 0.3:
                text = _unary(rng, leaves[0])[0]
        except Redraw:
            continue
        statements.append(f"f = {text}")
        return "; ".join(statements), values


_CONSTANT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def structure(program: str) -> str:
    """The program with its constants blanked out: what no two problems share."""
    return _CONSTANT.sub("#", program)


def write_distinct_problems(n: int, seed: int, path: Path) -> int:
    """n problems of distinct structures, one JSON record a line, to `path`; their tokens."""
    rng = random.Random(seed)
    seen: set[str] = set()
    tokens = 0
    with path.open("w", encoding="utf-8") as out:
        while len(seen) < n:
            program, bindings = draw(rng)
            key = structure(program)
            if key in seen:
                continue
            seen.add(key)
            tokens += len(re.findall(r"\w+(?:\.\d+)?|\*\*|\S", program))
            out.write(json.dumps({"program": program, "bindings": bindings}) + "\n")
    return tokens


if __name__ == "__main__":
    count = write_distinct_problems(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
    print(f"{sys.argv[1]} problems, {count} tokens in their programs", file=sys.stderr)
