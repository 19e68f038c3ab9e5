"""`--format latex`: a tabular of the nodes and an align* of the chain-rule steps.

Paste it into a document that loads amsmath; it compiles with a stock LaTeX.
"""

from __future__ import annotations

import re

from bpcli.core.graph import data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present.explain import derivation, local_formula
from bpcli.present.numbers import one_line
from bpcli.values import Value

# Lines are folded to this width. LaTeX reads a line break as a space and skips the spaces
# that start a line, so a fold at a space changes nothing; a fold elsewhere ends the line
# with %, which hides the line break. A further line is indented by CONTINUATION spaces (a
# comment's by "%" and them).
WIDTH = 80
CONTINUATION = 4
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "^": r"\^{}",
    "#": r"\#",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "~": r"\~{}",
}
_UNICODE = {
    "σ": r"$\sigma$",
    "∂": r"$\partial$",
    "…": r"\ldots{}",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "ᵀ": r"$^{T}$",
    "⚠": "(!)",
    "−": "-",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "γ": r"$\gamma$",
    "δ": r"$\delta$",
    "ε": r"$\varepsilon$",
    "θ": r"$\theta$",
    "λ": r"$\lambda$",
    "μ": r"$\mu$",
    "π": r"$\pi$",
    "ρ": r"$\rho$",
    "τ": r"$\tau$",
    "φ": r"$\phi$",
    "ω": r"$\omega$",
    "η": r"$\eta$",
    "ξ": r"$\xi$",
}


def tt(text: str) -> str:
    """Text set in \\texttt, with LaTeX's special characters escaped."""
    out = []
    for char in text:
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append("?")
    return r"\texttt{" + "".join(out) + "}"


def num(value: Value | None, precision: int) -> str:
    """A number for math mode: 1e-5 as 1\\times 10^{-5}; an array as text."""
    text = one_line(value, precision)
    if type(value) is not float:
        return r"\text{" + tt(text) + "}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def latex_text(run: Run, precision: int = 4, wrt: list[str] | None = None, width: int | None = WIDTH) -> str:
    """The tabular of the nodes and the align* of the chain rule, lines folded to `width`
    (None: a row or a step a line)."""
    graph = run.graph
    of = _symbol(graph.symbol)
    steps = derivation(run)
    lines = [
        "% bpcli: the backward pass of " + graph.output_text.replace("\n", " "),
        *(
            [f"% the upstream gradient of {graph.output_text} is given: {graph.upstream_name}"]
            if graph.upstream is not None
            else []
        ),
        "% needs \\usepackage{amsmath}",
        r"\begin{tabular}{rlllll}",
        rf"\# & node & op & value & upstream $\partial {of}/\partial\,\cdot$ & local \\",
        r"\hline",
    ]
    for step in steps:
        node = step.node
        up = "---" if step.upstream is None else "$" + num(step.upstream, precision) + "$"
        if step.upstream is None and data_use(graph, node):
            up = "--- (data)"  # an input read as an index or a shape: no gradient
        locals_ = [
            rf"$\partial/\partial$ {tt(scoped_ref(graph, e.input))} $=$ "
            + tt(local_formula(graph, node, e.index, run.values))
            for e in step.edges
            if e.downstream is not None
        ]
        if not node.op.differentiable and any(e.input.needs_grad for e in step.edges):
            locals_.append("no gradient (a comparison)")
        value = "---" if step.value is None else "$" + num(step.value, precision) + "$"
        lines.append(
            f"{node.id} & {tt(scoped_label(graph, node))} & {tt(node.op.name)} & "
            f"{value} & {up} & " + "; ".join(locals_) + r" \\"
        )
    lines.append(r"\end{tabular}")
    body = []
    for step in reversed(steps):
        node = step.node
        if not node.inputs or run.grads[node.id] is None:
            continue
        for edge in step.edges:
            if edge.downstream is None:
                continue
            target = steps[edge.input.id]
            relation = r"\mathrel{{+}{=}}" if len(target.branches) > 1 else "="
            local = "" if edge.local is None else num(edge.local, precision)
            product = f"{_paren(num(step.upstream, precision))} \\times {_paren(local)} = " if local else ""
            body.append(
                rf"\frac{{\partial {of}}}{{\partial\, {tt(scoped_ref(graph, edge.input))}}} &{relation} "
                rf"{product}{num(edge.downstream, precision)}"
                rf" && \text{{at {tt(scoped_label(graph, node))}}}"
            )
    for name, node in graph.inputs.items():
        if wrt and name not in wrt:
            continue
        step = steps[node.id]
        if len(step.branches) > 1:
            parts = " + ".join(_paren(num(g, precision)) for _, g in step.branches)
            body.append(
                rf"\frac{{\partial {of}}}{{\partial\, {tt(name)}}} &= {parts} = "
                rf"{num(step.upstream, precision)}"
            )
    if body:  # no chain-rule step (f is an input, or a constant): no align*, which amsmath refuses empty
        lines += ["", r"\begin{align*}", " \\\\\n".join(body), r"\end{align*}"]
    text = "\n".join(lines) + "\n"
    return text if width is None else fold_latex(text, width)


def _symbol(name: str) -> str:
    """The output's symbol in math: a letter (f) as itself, a longer name (loss) as text."""
    return name if len(name) == 1 and name.isascii() else r"\text{" + tt(name) + "}"


# --- folding to a width --------------------------------------------------------------------

# A control sequence, a number, or one character: a line is folded between these only.
_PIECE = re.compile(r"\\[A-Za-z]+\*?|\\.|[0-9.]+|[\s\S]")


def fold_latex(text: str, width: int = WIDTH) -> str:
    """LaTeX with each line longer than `width` folded onto further lines, meaning the same
    to LaTeX: at a single space (between a row's cells first), else between two tokens with
    a % at the end of the line. unfold_latex undoes it."""
    out: list[str] = []
    for line in text.split("\n"):
        out += _fold_line(line, width)
    return "\n".join(out)


def unfold_latex(text: str) -> str:
    """The text fold_latex folded, as it was."""
    lines: list[str] = []
    for line in text.split("\n"):
        if lines and lines[-1].startswith("%") and line.startswith("%" + " " * CONTINUATION):
            lines[-1] += " " + line[1:].lstrip(" ")
        elif lines and line.startswith(" " * CONTINUATION) and not lines[-1].startswith("%"):
            if _ends_in_percent(lines[-1]):
                lines[-1] = lines[-1][:-1] + line.lstrip(" ")
            else:
                lines[-1] += " " + line.lstrip(" ")
        else:
            lines.append(line)
    return "\n".join(lines)


def _ends_in_percent(line: str) -> bool:
    """Whether the line ends with a % that starts a comment (not \\%)."""
    body = line[:-1]
    return line.endswith("%") and (len(body) - len(body.rstrip("\\"))) % 2 == 0


def _fold_line(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    comment = line.startswith("%")
    indent = ("%" if comment else "") + " " * CONTINUATION
    pieces = [0]
    for m in _PIECE.finditer(line):
        pieces.append(m.end())
    top, spaces = _spaces(line)
    out: list[str] = []
    start, prefix = 0, ""
    while len(prefix) + len(line) - start > width:
        room = width - len(prefix)
        best = [p for p in top if start < p <= start + room]
        anywhere = [p for p in spaces if start < p <= start + room]
        if best and best[-1] - start >= room // 3:
            at = best[-1]
        elif anywhere:
            at = anywhere[-1]
        else:
            at = -1
        if at > 0:
            out.append(prefix + line[start:at])
            start, prefix = at + 1, indent
            continue
        cuts = [p for p in pieces if start < p < start + room and not comment]
        if not cuts:
            break
        out.append(prefix + line[start : cuts[-1]] + "%")
        start, prefix = cuts[-1], indent
    out.append(prefix + line[start:])
    return out


def _single(line: str, i: int) -> bool:
    """Whether the space at i is a single one inside the line, and not the one before a
    row's closing \\\\ (which would stand alone on a line)."""
    return 0 < i < len(line) - 1 and " " not in (line[i - 1], line[i + 1]) and line[i + 1 :] != "\\\\"


def _spaces(line: str) -> tuple[list[int], list[int]]:
    """The single spaces of a line (LaTeX reads two as one, but unfolding would not), and
    those of them outside braces and $…$ (between a row's cells and pieces)."""
    top: list[int] = []
    spaces: list[int] = []
    depth, math = 0, False
    for m in _PIECE.finditer(line):
        piece, i = m.group(), m.start()
        if piece == "{":
            depth += 1
        elif piece == "}":
            depth -= 1
        elif piece == "$":
            math = not math
        elif piece == " " and _single(line, i):
            spaces.append(i)
            if depth == 0 and not math:
                top.append(i)
    return top, spaces
