"""English texts."""

MESSAGES = {
    # bpcli check: the diagnosis of a wrong answer
    "check.forward": "the forward pass gives {name} = {truth}: recompute {label}",
    "check.sign": "sign error: ∂f/∂{name} is {truth}, not {answer}.",
    "check.missing-upstream": "forgot to multiply by the upstream gradient: {answer} is only the"
                              " local gradient; multiply it by ∂f/∂{gate_ref} = {upstream}.",
    "check.partial-fanout": "{name} feeds {count} gates, so its gradient adds all their branches:"
                            " {branches} = {truth}; {answer} leaves some out.",
    "check.swapped-inputs": "swapped inputs at the {op} gate {gate}: the local gradient with"
                            " respect to {name} is {formula}, not the one of the other input.",
    "check.value-confusion": "at the gate {gate}, the local gradient mixes up the gate's input and"
                             " its output: ∂/∂{name} = {formula}.",
    "check.wrong-route": "the {op} gate {gate} routes the whole upstream gradient to the input"
                         " that wins ({winner}) and nothing to the other.",
    "check.forward-gradient": "this follows from a wrong forward value; with the right forward"
                              " pass ∂f/∂{name} = {truth}.",
    "check.carried": "this follows from your ∂f/∂{upstream} = {answer}, which is wrong; with"
                     " it, this step itself is right.",
    "check.unknown": "no known mistake matches: ∂f/∂{name} = {truth}.",
    "check.rounded": "{answer} is what the upstream gradient rounded too early gives"
                     " ({upstream} × {local}): keep more digits until the last step.",
    "check.first": "Its upstream gradient is right, so this is where the derivation breaks:"
                   " re-derive the local gradient of {gate}: ∂/∂{name} = {formula} = {local}.",
    "check.summary": "{correct} of {total} correct",
    "check.first-wrong": "first wrong step: {written}",
    "check.header.answer": "answer",
    "check.header.means": "means",
    "check.header.yours": "yours",
    "check.header.truth": "truth",
    "check.header.diagnosis": "diagnosis",
    "check.element": "worst element {index}: {answer} vs {truth}",
}
