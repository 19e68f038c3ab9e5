"""中文文本 (Chinese texts). Keys missing here fall back to English."""

MESSAGES = {
    # bpcli check：错误答案的诊断
    "check.forward": "前向传播得到 {name} = {truth}：请重新计算 {label}",
    "check.sign": "符号错误：∂{out}/∂{name} 是 {truth}，不是 {answer}。",
    "check.sign-at": "∂{out}/∂{at} 的符号错了：你的答案是符号相反的 ∂{out}/∂{at} 带来的。",
    "check.scale": "差了一个因子 {factor}：你的答案是 {factor} × ∂{out}/∂{name}{why}。",
    "check.scale-at": "差了一个因子：你的答案是 ∂{out}/∂{at} 乘以 {factor} 带来的{why}。",
    "check.why-square": "（忘了平方的 2？）",
    "check.why-mean": "（忘了均值的 1/N，N = {n}？）",
    "check.missing-upstream": "忘了乘上游梯度：{answer} 只是局部梯度，还要乘以 "
    "∂{out}/∂{gate_ref} = {upstream}。",
    "check.missing-upstream-array": "忘了上游梯度：你的答案是 {gate} 在上游梯度全为 1 时传回的梯度。",
    "check.missing-local": "忘了 {gate} 的局部梯度：你的答案把它的上游梯度原样传了下去。",
    "check.partial-fanout": "{at} 被 {count} 个门使用，所以 ∂{out}/∂{at} 要把所有分支加起来："
    "{branches}；你的答案漏了 {left_out}。",
    "check.swapped-inputs": "{op} 门 {gate} 的输入弄反了：对 {input} 的局部梯度是 {formula}，"
    "而不是另一个输入的。",
    "check.value-confusion": "在门 {gate} 处，局部梯度把门的输入和输出混淆了：∂/∂{input} = {formula}。",
    "check.wrong-route": "{op} 门 {gate} 把全部上游梯度传给胜出的输入（{winner}），另一个输入得到 0。",
    "check.repeated-index": "{gate} 多次取到 {name} 的某些元素，索引重复的位置梯度要相加（np.add.at）；"
    "你的答案只在这些位置有偏差：∂{out}/∂{name} = {truth}。",
    "check.forward-gradient": "这是由你的前向值 {source} = {answer} 带来的，而它是错的；"
    "前向传播正确时 ∂{out}/∂{name} = {truth}。",
    "check.transpose": "转置了：你的答案是 ∂{out}/∂{name} 的转置；梯度的形状和排列与它的变量 {name}"
    " 相同：{truth_shape}。",
    "check.transpose-shape": "转置了：你的答案形状是 {shape}，而 {name} 的形状是 {truth_shape}；"
    "你的答案是 (∂{out}/∂{name})ᵀ，梯度的形状与它的变量相同。",
    "check.transpose-value": "转置了：你的答案形状是 {shape}，而 {name} 的形状是 "
    "{truth_shape}；你的答案是 {name}ᵀ。",
    "check.missing-sum": "没有求和：你的答案形状是 {shape}，{name} 的形状是 {truth_shape}。"
    "{name} 沿第 {axes} 轴被广播，所以它的梯度要把传回的梯度沿该轴求和：沿第 {axes} 轴求和{keepdims}。",
    "check.keepdims": "（保留该维度）",
    "check.shape": "形状不对：你的答案形状是 {shape}；∂{out}/∂{name} "
    "的形状与 {name} 相同，是 {truth_shape}。",
    "check.shape-scalar": "形状不对：你的答案是一个数；∂{out}/∂{name} "
    "的形状与 {name} 相同，是 {truth_shape}。",
    "check.shape-value": "形状不对：你的答案形状是 {shape}；{name} 的形状是 {truth_shape}。",
    "check.same-numbers": "数值是对的，只是形状不对。",
    "check.uniform": "它的每个元素都是 {answer}：请写成 all({answer})。",
    "check.carried": "这是由你的 ∂{out}/∂{upstream} = {answer} 带来的，而它是错的；"
    "按它来算，这一步本身是对的。",
    "check.follows": "与 {follows} 是同一个错误：{cause}",
    "check.unknown": "没有匹配到已知的错误：∂{out}/∂{name} = {truth}。",
    "check.rounded": "{answer} 是上游梯度过早四舍五入得到的（{upstream} × {local}）："
    "最后一步之前请多保留几位。",
    "check.rounded-given": "{answer} 是由你四舍五入后的 {above} 得到的：方法正确，但舍入过早；"
    "最后一步之前请多保留几位。",
    "check.first": "它的上游梯度是对的，所以推导在这里出错：请重新推导 {gate} 的局部梯度：{rule}。",
    "check.between": "从 {above} 到这里，链路经过 {through}，而你没有给出它们。",
    "check.the-output": "输出",
    "check.locate": "请重新推导 {gate} 的局部梯度：{rule}。",
    "check.common": "同一个错误也解释了 {common}。",
    "check.also": "（{kinds} 也会得到同样的数。）",
    "check.rule-scalar": "∂/∂{input} = {formula} = {local}",
    "check.rule-array": "∂{out}/∂{input} = {formula}，其中 g = {g_name}，形状为 {g_shape}",
    "check.rule-elementwise": "∂{out}/∂{input} = g ⊙ ({formula})，其中 g = {g_name}，形状为 {g_shape}",
    "check.rule-summed": "，再沿广播的轴求和为 {shape}",
    "check.and": "和",
    "check.sign-array": "符号错误：你的答案是 −∂{out}/∂{name}。",
    "check.sign-branch": "∂{out}/∂{at} 经过 {gate} 的分支符号错了。",
    "check.scale-branch": "差了一个因子：∂{out}/∂{at} 经过 {gate} 的分支是应有值的 {factor} 倍{why}。",
    "check.unknown-array": "没有匹配到已知的错误：∂{out}/∂{name}。",
    "check.branch": "经过 {gate} 的分支",
    "check.carried-array": "这是由你的 ∂{out}/∂{upstream} 带来的，而它是错的；按它来算，这一步本身是对的。",
    "check.partial-softmax": "{gate} 传回 p ⊙ (g − Σ g·p)，你的答案漏了第一项，"
    "即经过正确类别那一项的分支：把 p − onehot(y) 写成了 p。",
    "check.between-at": "从出错的地方到这里，链路经过 {through}，而你没有给出它们。",
    "check.rule-operands": "，{operands}",
    "check.sentence-join": " ",  # (a space: where rich may fold the line)
    "check.wrong-route-array": "{op} 门 {gate} 把每个元素的上游梯度传给在该元素处胜出的输入，"
    "另一个输入得到 0：你的答案正好反了过来。",
    "check.one-sided": "接受：{kinks} 在折点处不可导，你的答案是单侧导数（bpcli 的约定给出 {truth}）。",
    "check.summary": "{total} 个答案中 {correct} 个正确",
    "check.first-wrong": "第一个错误的步骤：{written}",
    "check.header.answer": "答案",
    "check.header.means": "含义",
    "check.header.yours": "你的",
    "check.header.truth": "正确值",
    "check.header.diagnosis": "诊断",
    "check.sentence-end": "。",
    "check.element": "偏差最大的元素 {index}：{answer}，正确值 {truth}",
    # grad --format steps：逐节点讲解反向传播
    "steps.title": "{output} 的反向传播，从输出到输入（下游梯度 = 上游梯度 × 局部梯度）",
    "steps.node": "#{id} {label}   [{op}]",
    "steps.gate.distributor": "加法门是分配器：每个输入都得到不变的上游梯度",
    "steps.gate.distributor.minus": "减法门带符号地分配：局部梯度是 +1 和 −1，所以第一个输入得到不变的"
    "上游梯度，第二个输入得到它的相反数",
    "steps.gate.swapper": "乘法门是交换器：每个输入的局部梯度是另一个输入的值",
    "steps.gate.router": "max 门是路由器：全部梯度传给胜出的输入",
    "steps.gate.gate": "relu 只在输入为正时让梯度通过",
    "steps.gate.router.smallest": "min 门是路由器：全部梯度传给胜出的输入",
    "steps.gate.router.choice": "where 是路由器：每个元素的梯度传给条件选中的分支，另一个分支得到 0",
    "steps.gate.router.largest.axis": "沿轴取 max 是路由器：每个切片的梯度传给它的胜出者，即最大的元素",
    "steps.gate.router.smallest.axis": "沿轴取 min 是路由器：每个切片的梯度传给它的胜出者，即最小的元素",
    "steps.gate.copier": "求和把梯度复制给参与求和的每个元素",
    "steps.gate.averager": "求平均把梯度除以元素个数 n 后复制给每个元素",
    "steps.gate.scatter": "索引把梯度散射回全零数组，索引重复的位置梯度相加",
    "steps.gate.rearranger": "reshape 或转置只重新排列元素：梯度原样移回原来的位置",
    "steps.gate.rearranger.join": "concatenate 或 stack 只把输入拼在一起："
    "每个输入原样取回属于自己的那部分梯度",
    "steps.gate.comparison": "比较运算不传递梯度",
    "steps.gate.none": "梯度不会流过这个门",
    "steps.upstream.start": "上游梯度  ∂{out}/∂{out} = 1（反向传播从这里开始）",
    "steps.upstream.given": "上游梯度  ∂{out}/∂{ref} = {name} = {value}  （{ref} 的上游梯度 {name}"
    " 是给定的：反向传播从这里开始）",
    "steps.upstream": "上游梯度  ∂{out}/∂{ref} = {value}",
    "steps.upstream.fanout": "上游梯度  ∂{out}/∂{ref} = {branches} = {value}  （{ref} 被使用了 {count}"
    " 次：复制节点把它们的梯度相加）",
    "steps.upstream.unused": "上游梯度  ∂{out}/∂{ref} = 0（它不影响输出）",
    "steps.branches": "它的 {count} 个分支之和（来自 {sources}）",
    "steps.branches.more": "…（共 {count} 个分支）",
    "steps.edge": "传给 {to}：局部梯度 ∂/∂{ref} = {formula} = {local}；下游梯度 = {upstream} × {factor}"
    " = {downstream}",
    "steps.edge.same": "传给 {to}：局部梯度 ∂/∂{ref} = {local}；下游梯度 = {upstream} × {factor}"
    " = {downstream}",
    "steps.edge.jacobian": "传给 {to}：下游梯度 = {formula} = {downstream}",
    "steps.edge.words": "传给 {to}：局部梯度 ∂/∂{ref} = {formula}；下游梯度 = {downstream}",
    "steps.edge.summed": "传给 {to}：局部梯度 ∂/∂{ref} = {formula}；下游梯度（沿{along}求和） = {downstream}",
    "steps.word.upstream": "上游梯度",
    "steps.word.local": "局部梯度",
    "steps.broadcast": "{to} 沿 {result} 结果的{along}被广播，所以它的梯度是把 g 沿{along}求和",
    "steps.broadcast.product": "{to} 沿 {result} 结果的{along}被广播，所以它的梯度是把 上游梯度 × 局部梯度"
    " 沿{along}求和",
    "steps.axis": "第 {axis} 轴",
    "steps.axes": "第 {axes} 轴",
    "steps.axes.join": "、",
    "steps.kink": "⚠ 此处不可导；bpcli 采用 {convention}",
    "steps.heading": "── {heading} ──",
    "steps.top": "顶层",
    "steps.gate.call": "整个调用显示为一个门（--depth）：每个输入得到调用传回给它的梯度",
    "steps.edge.call": "传给 {to}：下游梯度 = {downstream}（经过这次调用）",
    "steps.inputs": "输入的梯度",
    "steps.input": "∂{out}/∂{name} = {value}",
    "steps.input.fanout": "∂{out}/∂{name} = {branches} = {value}  （{name} 被使用了 {count} 次）",
    "steps.input.data": "∂{out}/∂{name} = —（{why}）",
    # 作为数据读取的输入（索引、形状）没有梯度
    "data.index": "{name} 是数据：它被用作索引",
    "data.value": "{name} 是数据：只用到它的值，作为形状或轴",
    "data.short": "数据",
    # 在不可导处 bpcli 采用的约定（运算的 convention；relu、abs 的约定是公式，沿用英文文本）
    "convention.tie": "两个输入相等时各得一半梯度的约定",
    "convention.norm": "norm 在零向量处梯度取 0 的约定",
    "convention.amax": "并列最大的元素平分梯度的约定",
    "convention.amin": "并列最小的元素平分梯度的约定",
    "convention.std": "std 在所归约的元素全部相等（标准差为零）时梯度取 0 的约定",
    "convention.maxpool": "窗口内并列最大时，梯度全给窗口中第一个最大元素的约定",
    # --- check，全班（bpcli.present.classroom）---
    "class.header.student": "学生",
    "class.header.right": "正确",
    "class.header.first": "第一个错误步骤",
    "class.header.kind": "类型",
    "class.error": "错误",
    "class.summary": "{count} 个文件：{parts}",
    "class.all-right": "{count} 个全对",
    "class.some-wrong": "{count} 个有错误答案",
    "class.errors": "{count} 个无法检查（出错）",
    "class.list-separator": "，",
    "class.mistakes": "错误，从多到少（只计出错的那一步）：",
    "class.mistake": "{total} 人中 {count} 人：{step} 处 {kind}",
    # --- check: a wrong forward value that is an array (not echoed in the message) ---
    "check.forward-array": "前向传播得到的 {name} 与你的不同：请重新计算 {label}",
    "check.forward-gradient-array": "这是由你的前向值 {source} 带来的，而它是错的；"
    "按它来算，这一步本身是对的。",
}
