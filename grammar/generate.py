"""Regenerate bpcli/_lalr.py, the stand-alone parser, from grammar/bpcli.lark.

    python grammar/generate.py

The first line of the output records the grammar's SHA-256, which
tests/test_grammar.py compares with the grammar file.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "bpcli.lark"
PARSER = ROOT / "bpcli" / "_lalr.py"


def grammar_digest() -> str:
    return hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()


def header() -> str:
    return f"# Generated from grammar/bpcli.lark (sha256 {grammar_digest()}) by grammar/generate.py.\n"


def main() -> None:
    generated = subprocess.run([sys.executable, "-m", "lark.tools.standalone", str(GRAMMAR)],
                               capture_output=True, text=True, check=True).stdout
    PARSER.write_text(header() + generated, encoding="utf-8")
    print(f"wrote {PARSER.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
