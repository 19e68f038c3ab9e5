"""`--format markdown`: the node table and the chain-rule steps, ready to paste."""

from __future__ import annotations

from bpcli.core.run import Run
from bpcli.present.explain import derivation
from bpcli.present.scopes import GroupStep, Headings, collapse, explain, heading
from bpcli.present.steps import steps_text
from bpcli.present.table import HEADERS, group_rows, rows, summary_lines
from bpcli.texts import Translator


def _cell(text: str) -> str:
    text = text.replace("|", "\\|").strip()
    if not text:
        return ""
    return "<br>".join(f"`{line}`" if any(c in line for c in "*_^[]") else line for line in text.split("\n"))


def markdown_text(
    run: Run,
    precision: int = 4,
    tr: Translator | None = None,
    wrt: list[str] | None = None,
    depth: int | None = None,
) -> str:
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if h in ("#", "value", "upstream ∂f/∂node") else "---" for h in HEADERS) + "|",
    ]
    headings = Headings(run.graph)
    for step in derivation(run) if depth is None else explain(run, collapse(run.graph, depth)):
        scope = step.group.scope if isinstance(step, GroupStep) else step.node.scope
        if headings.change(scope):
            lines.append("| | **" + _cell(heading(scope)) + "** |" + " |" * (len(HEADERS) - 2))
        if isinstance(step, GroupStep):
            block = group_rows(run.graph, step, precision)
        else:
            block = rows(run.graph, step, precision, run.values)
        merged = [_cell("\n".join(r[i] for r in block if r[i])) for i in range(len(HEADERS))]
        lines.append("| " + " | ".join(merged) + " |")
    lines.append("")
    lines += [f"- {line}" for line in summary_lines(run, precision, wrt)]
    lines += ["", "```text", steps_text(run, precision, tr, wrt, depth).rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"
