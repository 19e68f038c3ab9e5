"""English texts."""

MESSAGES = {
    # bpcli check: the diagnosis of a wrong answer
    "check.forward": "the forward pass gives {name} = {truth}: recompute {label}",
    "check.sign": "sign error: ∂{out}/∂{name} is {truth}, not {answer}.",
    "check.sign-at": "sign error in ∂{out}/∂{at}: your answer is "
    "what ∂{out}/∂{at} with the wrong sign gives.",
    "check.scale": "off by a factor of {factor}: your answer is {factor} × ∂{out}/∂{name}{why}.",
    "check.scale-at": "off by a factor: your answer is what ∂{out}/∂{at} times {factor} gives{why}.",
    "check.why-square": " (the 2 of a square?)",
    "check.why-mean": " (the 1/N of a mean, N = {n}?)",
    "check.missing-upstream": "forgot to multiply by the upstream gradient: {answer} is only the"
    " local gradient; multiply it by ∂{out}/∂{gate_ref} = {upstream}.",
    "check.missing-upstream-array": "forgot the upstream gradient: your answer is what {gate} sends"
    " back when its upstream gradient is all ones.",
    "check.missing-local": "forgot the local gradient of {gate}: your answer passes its upstream"
    " gradient straight through.",
    "check.partial-fanout": "{at} is used by {count} gates, so ∂{out}/∂{at} adds all their"
    " branches: {branches}; your answer leaves out {left_out}.",
    "check.swapped-inputs": "swapped inputs at the {op} gate {gate}: the local gradient with"
    " respect to {input} is {formula}, not the one of the other input.",
    "check.value-confusion": "at the gate {gate}, the local gradient mixes up the gate's input and"
    " its output: ∂/∂{input} = {formula}.",
    "check.wrong-route": "the {op} gate {gate} routes the whole upstream gradient to the input"
    " that wins ({winner}) and nothing to the other.",
    "check.repeated-index": "{gate} picks some elements of {name} more than once, and where an index"
    " repeats their gradients add up (np.add.at); your answer is off only there: ∂{out}/∂{name} = {truth}.",
    "check.forward-gradient": "this follows from your forward value {source} = {answer}, which is"
    " wrong; with the right forward pass ∂{out}/∂{name} = {truth}.",
    "check.transpose": "transposed: your answer is the transpose of ∂{out}/∂{name}; a gradient has"
    " the shape and layout of its variable, {name}: {truth_shape}.",
    "check.transpose-shape": "transposed: your answer has shape {shape}, but {name} has shape"
    " {truth_shape}; your answer is (∂{out}/∂{name})ᵀ, and a gradient has its variable's shape.",
    "check.transpose-value": "transposed: your answer has shape {shape}, but {name} has shape"
    " {truth_shape}; your answer is {name}ᵀ.",
    "check.missing-sum": "not summed: your answer has shape {shape}, {name} has shape {truth_shape}."
    " {name} was broadcast along axis {axes}, so its gradient sums what flows back over that axis:"
    " sum over axis {axes}{keepdims}.",
    "check.keepdims": " (keeping the dimension)",
    "check.shape": "wrong shape: your answer has shape {shape}; ∂{out}/∂{name} has the shape of"
    " {name}, {truth_shape}.",
    "check.shape-scalar": "wrong shape: your answer is one number; ∂{out}/∂{name} has the shape of"
    " {name}, {truth_shape}.",
    "check.shape-value": "wrong shape: your answer has shape {shape}; {name} has shape {truth_shape}.",
    "check.same-numbers": " The numbers are right: only the shape is not.",
    "check.uniform": " Every element of it is {answer}: write it as all({answer}).",
    "check.carried": "this follows from your ∂{out}/∂{upstream} = {answer}, which is wrong; with"
    " it, this step itself is right.",
    "check.follows": "the same mistake as {follows}: {cause}",
    "check.unknown": "no known mistake matches: ∂{out}/∂{name} = {truth}.",
    "check.rounded": "{answer} is what the upstream gradient rounded too early gives"
    " ({upstream} × {local}): keep more digits until the last step.",
    "check.rounded-given": "{answer} is what your rounded {above} give: a right method, rounded too"
    " early; keep more digits until the last step.",
    "check.first": "Its upstream gradient is right, so this is where the derivation breaks:"
    " re-derive the local gradient of {gate}: {rule}.",
    "check.between": "Between {above} and here the chain goes through {through}, which you did not give.",
    "check.between-output": "Between the output and here the chain goes through {through}, which you did"
    " not give.",
    "check.locate": "Re-derive the local gradient of {gate}: {rule}.",
    "check.common": "The same mistake explains {common} too.",
    "check.also": "({kinds} would give the same number.)",
    "check.rule-scalar": "∂/∂{input} = {formula} = {local}",
    "check.rule-number": "∂/∂{input} = {local}",
    "check.rule-array": "∂{out}/∂{input} = {formula}, with g = {g_name} of shape {g_shape}",
    "check.rule-elementwise": "∂{out}/∂{input} = g ⊙ ({formula}), with g = {g_name} of shape {g_shape}",
    "check.rule-summed": ", summed over the broadcast axes to {shape}",
    "check.and": " and ",
    "check.sign-array": "sign error: your answer is −∂{out}/∂{name}.",
    "check.sign-branch": "sign error in the branch of ∂{out}/∂{at} through {gate}.",
    "check.scale-branch": "off by a factor: the branch of ∂{out}/∂{at} through {gate} is {factor}"
    " times what it should be{why}.",
    "check.unknown-array": "no known mistake matches ∂{out}/∂{name}.",
    "check.branch": "the branch through {gate}",
    "check.carried-array": "this follows from your ∂{out}/∂{upstream}, which is wrong; with it, this"
    " step itself is right.",
    "check.partial-softmax": "{gate} sends back p ⊙ (g − Σ g·p), and your answer leaves out its"
    " first term, the branch through the correct class's pick: p where p − onehot(y) belongs.",
    "check.between-at": "From the mistake down to here, the chain goes through {through}, which you"
    " did not give.",
    "check.rule-operands": " and {operands}",
    "check.sentence-join": " ",
    "check.wrong-route-array": "the {op} gate {gate} sends each element's upstream gradient to the"
    " input that wins there, and nothing to the other: your answer has them the other way round.",
    "check.one-sided": "accepted: at the kink of {kinks} the derivative is not defined, and"
    " your answer is a one-sided derivative (bpcli's convention gives {truth}).",
    "check.summary": "{correct} of {total} correct",
    "check.first-wrong": "first wrong step: {written}",
    "check.header.answer": "answer",
    "check.header.means": "means",
    "check.header.yours": "yours",
    "check.header.truth": "truth",
    "check.header.diagnosis": "diagnosis",
    "check.sentence-end": ". ",
    "check.element": "worst element {index}: {answer} vs {truth}",
    # grad --format steps: the backward pass narrated
    "steps.title": "Backward pass of {output}, from the output to the inputs"
    "  (downstream = upstream × local)",
    "steps.node": "#{id} {label}   [{op}]",
    "steps.gate.distributor": "an add gate distributes: each input gets the upstream gradient unchanged",
    "steps.gate.distributor.minus": "a subtract gate distributes with a sign: its local gradients are"
    " +1 and −1, so the first input gets the upstream gradient unchanged and the second its negative",
    "steps.gate.swapper": "a mul gate swaps: each input's local gradient is the other input",
    "steps.gate.router": "a max gate routes: the whole gradient goes to the input that wins",
    "steps.gate.gate": "relu lets the gradient through where its input is positive",
    "steps.gate.router.smallest": "a min gate routes: the whole gradient goes to the input that wins",
    "steps.gate.router.choice": "where routes: each element's gradient goes to the branch its condition"
    " picks, and 0 to the other",
    "steps.gate.router.largest.axis": "a max along an axis routes: each slice's gradient goes to its"
    " winner, the largest element",
    "steps.gate.router.smallest.axis": "a min along an axis routes: each slice's gradient goes to its"
    " winner, the smallest element",
    "steps.gate.copier": "a sum copies the gradient to every element it summed",
    "steps.gate.averager": "a mean copies the gradient divided by the count n to every element",
    "steps.gate.scatter": "an index scatters the gradient back into zeros, adding where an index repeats",
    "steps.gate.rearranger": "a reshape or transpose only rearranges: the gradient is moved back, unchanged",
    "steps.gate.rearranger.join": "a concatenate or stack only puts its inputs together: each input gets"
    " its own piece of the gradient back, unchanged",
    "steps.gate.comparison": "a comparison passes no gradient",
    "steps.gate.none": "no gradient flows through this gate",
    "steps.upstream.start": "upstream  ∂{out}/∂{out} = 1  (the backward pass starts here)",
    "steps.upstream.given": "upstream  ∂{out}/∂{ref} = {name} = {value}  (the upstream gradient of {ref}"
    " is given ({name}): the backward pass starts here)",
    "steps.upstream": "upstream  ∂{out}/∂{ref} = {value}",
    "steps.upstream.fanout": "upstream  ∂{out}/∂{ref} = {branches} = {value}  ({ref} is used {count}"
    " times: a copy adds their gradients)",
    "steps.upstream.unused": "upstream  ∂{out}/∂{ref} = 0  (it does not lead to the output)",
    "steps.branches": "the sum of its {count} branches (from {sources})",
    "steps.branches.more": "… ({count} branches)",
    "steps.edge": "to {to}:  local ∂/∂{ref} = {formula} = {local};  downstream = {upstream} × {factor}"
    " = {downstream}",
    "steps.edge.same": "to {to}:  local ∂/∂{ref} = {local};  downstream = {upstream} × {factor}"
    " = {downstream}",
    "steps.edge.jacobian": "to {to}:  downstream = {formula} = {downstream}",
    "steps.edge.words": "to {to}:  local ∂/∂{ref} = {formula};  downstream = {downstream}",
    "steps.edge.summed": "to {to}:  local ∂/∂{ref} = {formula};  downstream, summed over {along}"
    " = {downstream}",
    "steps.word.upstream": "upstream",
    "steps.word.local": "local",
    "steps.broadcast": "{to} was broadcast along {along} of the {result} result, so its gradient"
    " sums g over {along}",
    "steps.broadcast.product": "{to} was broadcast along {along} of the {result} result, so its"
    " gradient sums upstream × local over {along}",
    "steps.axis": "axis {axis}",
    "steps.axes": "axes {axes}",
    "steps.axes.join": ", ",
    "steps.kink": "⚠ not differentiable here; bpcli takes {convention}",
    "steps.heading": "── {heading} ──",
    "steps.top": "top level",
    "steps.gate.call": "the whole call as one gate (--depth): its inputs get what it sends back",
    "steps.edge.call": "to {to}:  downstream = {downstream}  (through the call)",
    "steps.inputs": "Gradients of the inputs",
    "steps.input": "∂{out}/∂{name} = {value}",
    "steps.input.fanout": "∂{out}/∂{name} = {branches} = {value}  ({name} is used {count} times)",
    "steps.input.data": "∂{out}/∂{name} = —  ({why})",
    # an input read as data (an index, a shape) gets no gradient
    "data.index": "{name} is data: it is used as an index",
    "data.value": "{name} is data: only its value is used, as a shape or an axis",
    "data.short": "data",
    # what bpcli takes where an op is not differentiable (the op's `convention`)
    "convention.relu": "relu'(0) = 0",
    "convention.abs": "abs'(0) = 0",
    "convention.tie": "at a tie each input gets half the gradient",
    "convention.norm": "the gradient of norm at the zero vector is taken as 0",
    "convention.amax": "tied largest elements share the gradient evenly",
    "convention.amin": "tied smallest elements share the gradient evenly",
    "convention.std": "where the elements std reduces are all equal (zero spread), its gradient is"
    " taken as 0",
    "convention.maxpool": "at a tie the first largest element in the window gets the gradient",
    # --- check, a whole class (bpcli.present.classroom) ---
    "class.header.student": "student",
    "class.header.right": "right",
    "class.header.first": "first wrong step",
    "class.header.kind": "kind",
    "class.error": "error",
    "class.summary": "{count} files: {parts}",
    "class.all-right": "{count} all right",
    "class.some-wrong": "{count} with wrong answers",
    "class.errors": "{count} not checked (error)",
    "class.list-separator": ", ",
    "class.mistakes": "Mistakes, most common first (where each was made):",
    "class.mistake": "{count} of {total}: {kind} at {step}",
    # --- check: a wrong forward value that is an array (not echoed in the message) ---
    "check.forward-array": "the forward pass gives another {name}: recompute {label}",
    "check.forward-gradient-array": "this follows from your forward value {source}, which is wrong;"
    " with it, this step itself is right.",
    # --- the HTML report (--format html) ---
    "html.title": "bpcli: the backward pass of {output}",
    "html.check-title": "bpcli check: the answers for {output}",
    "html.program": "Program",
    "html.circuit": "The circuit",
    "html.legend.graphviz": "On each wire its value above the line and, below it, the gradient"
    " it carries back. Hover a node or a wire for its numbers.",
    "html.legend.own": "Above each node its value, below it the gradient ∂{out}/∂node. Hover a"
    " node or a wire for its numbers.",
    "html.keys": "Step through the backward pass with the buttons or the keys → ← (Home, End).",
    "html.first": "First",
    "html.prev": "Previous",
    "html.next": "Next",
    "html.last": "Last",
    "html.step": "step {k} of {n}",
    "html.steps": "The backward pass, gate by gate",
    "html.no-steps": "No gradient flows back through a gate.",
    "html.too-big": "The circuit of {nodes} nodes is too big to draw here (a page draws up to {limit}).",
    "html.steps-cut": "Below are the first {shown} of its {steps} steps, from the output back.",
    "html.too-big-hint": "bpcli grad --format steps narrates every step, --format table lists every"
    " node, and --format json holds them all, as this page's data does.",
    "html.nodes-cut": "The last {shown} of {nodes} nodes; bpcli grad --format table lists every one.",
    "html.nodes": "Nodes",
    "html.grads": "Gradients",
    "html.value": "value",
    "html.gradient": "gradient",
    "html.local": "local",
    "html.formula": "local ∂/∂input",  # the panel's column of each local gradient's formula
    "html.local-value": "= value",  # and of its value
    "html.upstream": "upstream",
    "html.downstream": "downstream",
    "html.input": "input",
    "html.node": "node",
    "html.op": "op",
    "html.to-inputs": "to each input",
    "html.gates": "gates",
    "html.the-output": "the output",
    "html.all-values": "all values",
    "html.first-values": "the first values (all of them in --format json --full)",
    "html.answers": "The answers",
    "html.right": "right",
    "html.wrong": "wrong",
    "html.first-wrong": "the first wrong step",
}
