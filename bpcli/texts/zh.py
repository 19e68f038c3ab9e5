"""中文文本 (Chinese texts). Keys missing here fall back to English."""

MESSAGES = {
    # bpcli check：错误答案的诊断
    "check.forward": "前向传播得到 {name} = {truth}：请重新计算 {label}",
    "check.sign": "符号错误：∂f/∂{name} 是 {truth}，不是 {answer}。",
    "check.missing-upstream": "忘了乘上游梯度：{answer} 只是本地梯度，还要乘以 ∂f/∂{gate_ref} = {upstream}。",
    "check.partial-fanout": "{name} 被使用了 {count} 次，它的梯度要把所有分支加起来：{branches} = {truth}；"
    "{answer} 漏掉了一些分支。",
    "check.swapped-inputs": "{op} 门 {gate} 的输入弄反了：对 {name} 的本地梯度是 {formula}，"
    "不是另一个输入的本地梯度。",
    "check.value-confusion": "在门 {gate} 处，本地梯度把门的输入和输出混淆了：∂/∂{name} = {formula}。",
    "check.wrong-route": "{op} 门 {gate} 把全部上游梯度传给胜出的输入（{winner}），另一个输入得到 0。",
    "check.repeated-index": "{gate} 多次取到 {name} 的某些元素，索引重复的位置梯度要相加（np.add.at）；"
    "你的答案只在这些位置上不对：∂f/∂{name} = {truth}。",
    "check.forward-gradient": "这是前向传播的数值错误导致的；前向传播正确时 ∂f/∂{name} = {truth}。",
    "check.transposed": "转置了：你的答案是 ∂f/∂{name} 的转置；梯度的形状和排列与它的变量 {name}"
    " 相同：{truth_shape}。",
    "check.shape": "形状不对：你的答案形状是 {shape}；∂f/∂{name} 的形状与 {name} 相同，是 {truth_shape}。",
    "check.shape-value": "形状不对：你的答案形状是 {shape}；{name} 的形状是 {truth_shape}。",
    "check.carried": "这是由你的 ∂f/∂{upstream} = {answer} 带来的，而它是错的；"
    "用它计算的话，这一步本身是对的。",
    "check.unknown": "没有匹配到已知的错误：∂f/∂{name} = {truth}。",
    "check.rounded": "{answer} 是上游梯度过早四舍五入得到的（{upstream} × {local}）："
    "最后一步之前请多保留几位。",
    "check.first": "它的上游梯度是对的，所以推导在这里出错：请重新推导 {gate} 的本地梯度："
    "∂/∂{name} = {formula} = {local}。",
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
    "steps.title": "{output} 的反向传播，从输出到输入（下游梯度 = 上游梯度 × 本地梯度）",
    "steps.node": "#{id} {label}   [{op}]",
    "steps.gate.distributor": "加法门是分配器：每个输入都得到不变的上游梯度",
    "steps.gate.distributor.minus": "减法门带符号地分配：第一个输入得到不变的上游梯度，"
    "第二个输入得到它的相反数",
    "steps.gate.swapper": "乘法门是交换器：每个输入的本地梯度是另一个输入的值",
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
    "steps.upstream.start": "上游梯度  ∂f/∂f = 1（反向传播从这里开始）",
    "steps.upstream.given": "上游梯度  ∂f/∂{ref} = {name} = {value}（{ref} 的上游梯度 {name}"
    " 是给定的：反向传播从这里开始）",
    "steps.upstream": "上游梯度  ∂f/∂{ref} = {value}",
    "steps.upstream.fanout": "上游梯度  ∂f/∂{ref} = {branches} = {value}（{ref} 被使用了 {count}"
    " 次：复制节点把它们的梯度相加）",
    "steps.upstream.unused": "上游梯度  ∂f/∂{ref} = 0（它不影响输出）",
    "steps.edge": "传给 {to}：本地梯度 ∂/∂{ref} = {formula} = {local}；下游梯度 = {upstream} × {local}"
    " = {downstream}",
    "steps.edge.same": "传给 {to}：本地梯度 ∂/∂{ref} = {local}；下游梯度 = {upstream} × {local}"
    " = {downstream}",
    "steps.edge.jacobian": "传给 {to}：下游梯度 = {formula} = {downstream}",
    "steps.broadcast": "{to} 从形状 {shape} 被广播成 {out}：它的梯度是把下游梯度沿被复制的轴求和",
    "steps.kink": "⚠ 此处不可导；bpcli 采用 {convention}",
    "steps.heading": "── {heading} ──",
    "steps.top": "顶层",
    "steps.gate.call": "整个调用显示为一个门（--depth）：每个输入得到调用传回给它的梯度",
    "steps.edge.call": "传给 {to}：下游梯度 = {downstream}（经过这次调用）",
    "steps.inputs": "输入的梯度",
    "steps.input": "∂f/∂{name} = {value}",
    "steps.input.fanout": "∂f/∂{name} = {branches} = {value}（{name} 被使用了 {count} 次）",
    "steps.input.data": "∂f/∂{name} = —（{why}）",
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
    "class.mistakes": "错误，从多到少（每个错误答案都计入）：",
    "class.mistake": "{total} 人中 {count} 人：{step} 处 {kind}",
}
