"""Writes mixed.jsonl, the input of tests/test_records_same.py: distinct problems from the
benchmark's generator with error records, text lines, ids, comments, repeated structures and
the other forms of a batch line mixed in. Run once; its output and bpcli's records for it
(made before the work of issue 20 changed the per-problem path) are committed."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "benchmarks"))

from distinct_problems import draw  # noqa: E402

ODD = [
    "# a comment line",
    "",
    '{"program": "f = x/(x-x)", "bindings": {"x": 1}}',
    '{"program": "f = (x+", "bindings": {"x": 1}}',
    '{"program": "f = x*y", "bindings": {"x": 1}}',
    '{"program": "f = x*2", "bindings": {"x": 1, "y": 2}}',
    '{"program": "f = x*2", "bindings": {"x": true}}',
    '{"program": "f = x*2", "bindings": {"x": 1e400}}',
    '{"program": "f = x*2", "bindings": {"x": 1e-400}}',
    '{"program": "f = x*2", "bindings": {"x": "[1, 2]"}}',
    '{"program": "f = sum(x*2)", "bindings": {"x": [1, 2.5]}}',
    '{"program": 3}',
    '{"program": "f = x", "bindings": [1]}',
    '{"program": "f = x", "bindings": {"x": 2}, "colour": 1}',
    '{"bindings": {"x": 2}}',
    "[1, 2]",
    '{"program": "f = x*2", "bindings": {"x": 1}',
    '{"program": "f = log(x)", "bindings": {"x": -1}}',
    '{"program": "f = exp(x)", "bindings": {"x": 800}}',
    '{"program": "f = x^0.5 + y", "bindings": {"x": -1, "y": 2}}',
    '{"program": "f = abs(x)*y", "bindings": {"x": 0, "y": 2}}',
    '{"program": "f = x*y; g = f+1", "bindings": {"x": 3, "y": 2}, "output": "f"}',
    '{"program": "f = x*y", "bindings": {"x": 3, "y": 2}, "upstream": 2.5}',
    '{"program": "f = x*y", "bindings": {"x": 3, "y": 2}, "id": "a string id"}',
    '{"program": "f = x*y", "bindings": {"x": 3, "y": 2}, "id": 17}',
    '{"program": "f = x*y", "bindings": {"x": 3, "y": 2}, "id": [1, {"k": null}]}',
    '{"program": "f = x*y", "bindings": {"x": 3, "y": 2}, "id": 1.5}',
    '{"program": "x*y+1", "bindings": {"x": 3, "y": 2}}',
    '{"program": "f = x*y  # a comment", "bindings": {"x": 3, "y": 2}}',
    "x=-2; y=5; z=-4; f=(x+y)*z",
    "x=-2; y=5; f=(x+y)*zz",
    "x=3; f = x*x + x",
    "x=1e400; f = x*2",
    "f = 3*4",
    "x = [1, 2]; f = sum(x^2)",
    "x=2; f = x +* 3",
    '{"program": "f = \\u00e9*2", "bindings": {"\\u00e9": 1.5}}',
    "x=2; f = 'text'",
]


def neuron(rng: random.Random) -> str:
    w = [round(rng.uniform(-3, 3), 3) for _ in range(5)]
    names = ("w0", "x0", "w1", "x1", "w2")
    head = "; ".join(f"{n}={v}" for n, v in zip(names, w, strict=True))
    return head + "; f = 1/(1+exp(-(w0*x0+w1*x1+w2)))"


def main() -> None:
    rng = random.Random(20)
    lines = []
    for _ in range(300):
        program, bindings = draw(rng)
        record: dict[str, object] = {"program": program, "bindings": bindings}
        if rng.random() < 0.1:
            record["id"] = rng.choice([rng.randint(0, 99), f"p{rng.randint(0, 99)}"])
        lines.append(json.dumps(record))
    for _ in range(40):  # the same structure again, other numbers: the reuse and compiled paths
        lines.append(neuron(rng))
    again = json.loads(lines[5])
    for _ in range(5):
        again["bindings"] = {k: round(v + rng.uniform(-0.1, 0.1), 3) for k, v in again["bindings"].items()}
        lines.append(json.dumps(again))
    lines.extend(ODD)
    rng.shuffle(lines)
    (HERE / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
