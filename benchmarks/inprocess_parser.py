"""In-process parser speed: tokens per second, parse only and text to graph, bpcli imported once.

Run by benchmarks/run.py (`--only parser`) with the benchmark venv's interpreter; prints one
JSON object. Three inputs: the sigmoid neuron (samples/neuron.bp), a random 100-token
problem (a fixed seed, so every run parses the same text), and the 100k-term sum.

- parse only: the LALR parser reads the text into the program's statements and expression
  trees (bpcli.language.program.Recorder), and nothing is run;
- text to graph: bpcli.language.parse.parse(text, bindings), the graph built.

Tokens are what bpcli's lexer gives the parser (layout tokens included, white space and
comments not); the output gives each input's token count and its seconds per parse in each
round. Usage: python inprocess_parser.py --sum 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from pathlib import Path
from typing import Any

import bpcli
from bpcli.language import lalr
from bpcli.language.parse import parse
from bpcli.language.program import Recorder

NEURON = (Path(__file__).resolve().parent.parent / "samples" / "neuron.bp").read_text(encoding="utf-8")


def random_problem(tokens: int, seed: int) -> tuple[str, dict[str, float]]:
    """A random expression of 2–6 inputs over + - * /, exp and powers, grown until it has
    about `tokens` tokens, with its bindings (the inputs in 0.5..1.5, so it stays finite)."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(rng.randint(2, 6))]
    text = rng.choice(names)
    while _count(text) < tokens:
        operand = rng.choice([rng.choice(names), f"{rng.randint(1, 9)}", f"exp({rng.choice(names)}*0.1)"])
        op = rng.choice(["+", "-", "*", "/", "^"])
        if op == "^":
            text = f"({text})^2" if _count(text) < tokens - 4 else f"{text}+{operand}"
        elif op == "/":
            text = f"{text}/(1+{operand})"
        else:
            text = f"{text}{op}{operand}"
    return f"f = {text}\n", {name: 0.5 + rng.random() for name in names}


def _count(text: str) -> int:
    return sum(1 for _ in lalr.tokens(text))


def measure(text: str, bindings: dict[str, float], seconds: float, repeats: int) -> dict[str, Any]:
    """Seconds per parse, parse only and text to graph, in `repeats` interleaved rounds of
    about `seconds` each (the mean of the parses in the round)."""
    parser = lalr.Parser(Recorder(lambda statement: None))
    cases = {"parse": lambda: parser.parse(text), "graph": lambda: parse(text, bindings)}
    out: dict[str, Any] = {"tokens": _count(text), "chars": len(text), "parse": [], "graph": []}
    runs = {}
    for name, once in cases.items():
        once()
        t0 = time.perf_counter()
        once()
        runs[name] = max(1, int(seconds / max(time.perf_counter() - t0, 1e-9)))
    for _ in range(repeats):
        for name, once in cases.items():
            gc.collect()
            n = runs[name]
            gc.disable()  # (as parse does: collecting the many objects a parse makes is waste)
            t0 = time.perf_counter()
            for _ in range(n):
                once()
            out[name].append((time.perf_counter() - t0) / n)
            gc.enable()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sum", type=int, default=100_000, help="terms of the long sum")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="time of one round")
    args = parser.parse_args()
    problem, bindings = random_problem(100, seed=20)
    inputs = {
        "neuron (samples/neuron.bp)": (NEURON, {}),
        "random 100-token problem": (problem, bindings),
        f"x1+x2+…, {args.sum:,} terms": (
            "+".join(f"x{i}" for i in range(1, args.sum + 1)),
            {f"x{i}": 0.5 for i in range(1, args.sum + 1)},
        ),
    }
    results = {key: measure(text, b, args.seconds, args.repeats) for key, (text, b) in inputs.items()}
    print(json.dumps({"bpcli": bpcli.__file__, "inputs": results}))


if __name__ == "__main__":
    main()
