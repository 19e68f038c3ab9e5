"""Regenerate bpcli/language/_tables.py, the LALR(1) tables of grammar/bpcli.lark, with Lark.

    python grammar/generate.py

Lark analyses the grammar; bpcli/lalr.py runs the tables with its own small lexer and
parser loop, so bpcli needs no grammar analysis, and no Lark, at run time. The first line
of the output records the grammar's SHA-256, which tests/test_grammar.py checks.
"""

from __future__ import annotations

import hashlib
import pprint
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "bpcli.lark"
TABLES = ROOT / "bpcli" / "language" / "_tables.py"


def header() -> str:
    digest = hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()
    return f"# Generated from grammar/bpcli.lark (sha256 {digest}) by grammar/generate.py.\n"


def tables_source() -> str:
    from lark import Lark
    from lark.parsers.lalr_analysis import Shift

    lark = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="basic")
    table = lark.parser.parser._parse_table
    rules = list(lark.rules)
    index = {id(rule): i for i, rule in enumerate(rules)}

    # Lexer order as Lark's basic lexer: priority, then the longest possible match first.
    terminals = sorted(
        lark.terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name)
    )
    # A keyword ("for", "in") is a fixed string that NAME matches too: the lexer reads a NAME
    # and looks its text up in KEYWORDS, as Lark's own lexer does.
    name = re.compile(next(t.pattern.to_regexp() for t in terminals if t.name == "NAME"))
    keywords = {
        t.pattern.value: t.name
        for t in terminals
        if t.pattern.type == "str" and name.fullmatch(t.pattern.value)
    }
    terminals = [t for t in terminals if t.name not in keywords.values()]
    lexer = [(t.name, t.pattern.to_regexp()) for t in terminals]
    literals = {t.name: t.pattern.value for t in terminals if t.pattern.type == "str"}

    rule_rows = []
    for rule in rules:
        keep = tuple(
            (i, not sym.is_term and sym.name.startswith("_"))
            for i, sym in enumerate(rule.expansion)
            if not (sym.is_term and sym.filter_out)
        )
        origin = str(rule.origin.name)
        callback = None if origin.startswith("_") else str(rule.alias or origin)
        expand1 = bool(rule.options.expand1) and not rule.alias
        tokens = tuple(i for i, sym in enumerate(rule.expansion) if sym.is_term and not sym.filter_out)
        rule_rows.append((origin, len(rule.expansion), callback, keep, expand1, tokens))

    # Symbols by number: the terminals first (the lexer's kinds), then the rules' names.
    terminals_used = sorted(
        {str(sym) for row in table.states.values() for sym in row if str(sym).isupper()}
        | {t.name for t in lark.terminals if t.name not in lark.ignore_tokens}
    )
    nonterminals = sorted({str(rule.origin.name) for rule in rules})
    symbols = tuple(terminals_used + [n for n in nonterminals if n not in terminals_used])
    states = []
    for state in range(len(table.states)):
        row: list[int | None] = [None] * len(symbols)
        for symbol, (action, arg) in table.states[state].items():
            row[symbols.index(str(symbol))] = arg if action is Shift else ~index[id(arg)]
        states.append(tuple(row))

    def fmt(value: object) -> str:
        return pprint.pformat(value, width=100, sort_dicts=False, compact=True)

    return (
        header() + '"""The LALR(1) tables of bpcli\'s grammar, computed by Lark: do not edit."""\n\n'
        f"# (terminal, regular expression), in the order the lexer tries them\nLEXER = {fmt(lexer)}\n\n"
        f"IGNORE = {fmt(tuple(sorted(lark.ignore_tokens)))}\n\n"
        f"LITERALS = {fmt(literals)}\n\n"
        f"# a NAME with one of these texts is the keyword's terminal\nKEYWORDS = {fmt(keywords)}\n\n"
        f"START = {table.start_states['start']}\nEND = {table.end_states['start']}\n\n"
        "# (origin, length, callback or None to splice into the parent,\n"
        "#  kept children as (index, splice), pass a single child through,\n"
        "#  the indices of the kept children that are tokens)\n"
        f"RULES = {fmt(rule_rows)}\n\n"
        "# the grammar's symbols by number: its terminals (upper case) first, then its rules\n"
        f"SYMBOLS = {fmt(symbols)}\nTERMINALS = {len(terminals_used)}  # (how many of them are terminals)\n\n"
        "# state -> action by symbol number (one tuple for each state, None for no action):\n"
        "# shift (or go to) state n when n >= 0, reduce by rule ~n otherwise\n"
        f"STATES = {fmt(tuple(states))}\n"
    )


def main() -> None:
    TABLES.write_text(tables_source(), encoding="utf-8")
    print(f"wrote {TABLES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
