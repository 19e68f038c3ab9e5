"""`--format latex`: a tabular of the nodes and an align* of the chain-rule steps.

Paste it into a document that loads amsmath; it compiles with a stock LaTeX.
"""

from __future__ import annotations

from bpcli.core.graph import data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present.explain import derivation, local_formula
from bpcli.present.numbers import one_line
from bpcli.values import Value

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


def latex_text(run: Run, precision: int = 4, wrt: list[str] | None = None) -> str:
    graph = run.graph
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
        r"\# & node & op & value & upstream $\partial f/\partial\,\cdot$ & local \\",
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
                rf"\frac{{\partial f}}{{\partial\, {tt(scoped_ref(graph, edge.input))}}} &{relation} "
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
                rf"\frac{{\partial f}}{{\partial\, {tt(name)}}} &= {parts} = "
                rf"{num(step.upstream, precision)}"
            )
    if body:  # no chain-rule step (f is an input, or a constant): no align*, which amsmath refuses empty
        lines += ["", r"\begin{align*}", " \\\\\n".join(body), r"\end{align*}"]
    return "\n".join(lines) + "\n"
