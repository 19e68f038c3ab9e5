"""The input and output loop the baselines share: one problem a line in, one JSON line out,
written the way bpcli batch writes its records."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def run(argv: list[str], solve: Callable[[str], tuple[str, float, dict[str, Any]]]) -> None:
    """`script FILE [--limit N]`: solve each non-blank, non-comment line of FILE."""
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
            output, value, grads = solve(text)
            write(json.dumps({"source": path, "line": number, "output": output, "value": value,
                              "grads": grads}, separators=(",", ":")) + "\n")
            done += 1
    sys.stdout.flush()
