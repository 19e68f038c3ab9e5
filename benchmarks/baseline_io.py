"""What the baselines share: the input and output loop of the batch baselines (one problem a
line in, one JSON line out, written the way bpcli batch writes its records), the reading of
a problem line into its statements, and the arguments of the two-layer-net baselines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any


def run(argv: list[str], solve: Callable[..., tuple[str, float, dict[str, Any]]]) -> None:
    """`script FILE [--limit N]`: solve each non-blank, non-comment line of FILE. A line
    that starts with `{` is a JSON record {"program": …, "bindings": {name: number}}, solved
    as solve(program, bindings); any other line as solve(line)."""
    path = argv[0]
    limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv else None
    write = sys.stdout.write  # block-buffered when stdout is a pipe or a file
    done = 0
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            if limit is not None and done >= limit:
                break
            if text.startswith("{"):
                record = json.loads(text)
                output, value, grads = solve(record["program"], record["bindings"])
            else:
                output, value, grads = solve(text)
            write(
                json.dumps(
                    {"source": path, "line": number, "output": output, "value": value, "grads": grads},
                    separators=(",", ":"),
                )
                + "\n"
            )
            done += 1
    sys.stdout.flush()


def statements(text: str) -> Iterator[tuple[str, float | None, str]]:
    """A problem line's statements `name = rhs`, split on `;`, in order: each name with the
    number its rhs is (an input), or None where the rhs is an expression, and the rhs text.
    The last name is the output."""
    for statement in text.split(";"):
        name, _, rhs = statement.partition("=")
        name, rhs = name.strip(), rhs.strip()
        if not name:
            continue
        try:
            number: float | None = float(rhs)
        except ValueError:
            number = None
        yield name, number, rhs


NET_INPUTS = ("X", "Y", "W1", "b1", "W2", "b2")


def net_files(args: list[str]) -> tuple[dict[str, str], float]:
    """`DIR N` (DIR holding X.npy, Y.npy, W1.npy, b1.npy, W2.npy, b2.npy) or the six files
    in that order and then N: the path of each input by name, and N."""
    if len(args) == 2 and os.path.isdir(args[0]):
        paths = {name: os.path.join(args[0], f"{name}.npy") for name in NET_INPUTS}
    elif len(args) == len(NET_INPUTS) + 1:
        paths = dict(zip(NET_INPUTS, args[:-1], strict=True))
    else:
        raise SystemExit(f"usage: DIR N, or {' '.join(f'{name}.npy' for name in NET_INPUTS)} N")
    return paths, float(args[-1])
