"""Simplified Chinese words for the figures: `--lang zh_CN` writes book/figures/NAME.zh_CN.svg.

Keys are the English texts exactly as the scripts pass them to tr() (a missing key is an
error, so no English is left behind). The terms follow book/glossary.md; formulas between
$...$ stay as they are. A key "ctx|words" is the English words in the context ctx.
"""

TEXT = {
    # --- fig_elman.py: elman_folded_unrolled ---------------------------------------------
    "Elman's simple recurrent network, folded and unrolled in time": (
        "Elman 的简单循环网络：折叠形式与按时间展开"
    ),
    "Left: the folded network. The input x_t reaches the hidden units h_t through the "
    "weights W; the context units hold a copy of the previous hidden state h_{t-1} and "
    "reach the hidden units through U; the hidden units reach the output y-hat_t through V. "
    "After each step the hidden units are copied into the context units. Right: the same "
    "network unrolled over the steps t-1, t and t+1, one copy per step, each with the same "
    "W, U and V; the copy into the context units becomes the arrow from one hidden state "
    "to the next.": (
        "左：折叠的网络。输入 x_t 经权重 W 到达隐藏单元 h_t；上下文单元保存上一个隐藏状态 "
        "h_{t-1} 的副本，经 U 到达隐藏单元；隐藏单元经 V 到达输出 y-hat_t。每一步之后，"
        "隐藏单元被复制到上下文单元。右：同一个网络在时间步 t-1、t 和 t+1 上展开，每步一份"
        "副本，都使用同一组 W、U 和 V；复制到上下文单元这一步变成了从一个隐藏状态指向下一个"
        "隐藏状态的箭头。"
    ),
    "folded": "折叠",
    "output units": "输出单元",
    "hidden units": "隐藏单元",
    "input units": "输入单元",
    "context units": "上下文单元",
    "copy": "复制",
    "unroll": "展开",
    "unrolled in time": "按时间展开",
    "step ${s}$": "第 ${s}$ 步",
    "the same $W$, $U$, $V$ (and $b$, $b_y$) at every step": (
        "每一步都使用同一组 $W$、$U$、$V$（以及 $b$、$b_y$）"
    ),
    # --- fig_tasks.py: sequence_tasks ------------------------------------------------------
    "Five kinds of sequence task": "五类序列任务",
    "Five small diagrams side by side. In each, blue boxes at the bottom are inputs, "
    "orange boxes in the middle are hidden states joined left to right, and purple boxes "
    "at the top are outputs. One to one: one input, one state, one output, as when "
    "classifying a single input. One to many: one input, then a state and an output at "
    "each of three steps, as when writing a caption for an image. Many to one: three "
    "inputs and one output at the end, as for the sentiment of a sentence. Many to many, "
    "aligned: an input and an output at every step, as when tagging each word or "
    "predicting the next symbol. Many to many, unaligned: an encoder reads three inputs "
    "with no outputs, then a decoder writes two outputs with no inputs, as in translation.": (
        "五幅并排的小图。每幅图中，底部的蓝框是输入，中间的橙框是从左到右相连的隐藏状态，"
        "顶部的紫框是输出。一对一：一个输入、一个状态、一个输出，如对单个输入分类。"
        "一对多：一个输入，随后三个时间步各有一个状态和一个输出，如为图像生成描述。"
        "多对一：三个输入，最后一个输出，如判断句子的情感。多对多（对齐）：每个时间步都有"
        "一个输入和一个输出，如为每个词标注或预测下一个符号。多对多（不对齐）：编码器读入"
        "三个输入而不输出，随后解码器写出两个输出而不读入，如翻译。"
    ),
    "input": "输入",
    "hidden state": "隐藏状态",
    "output": "输出",
    "one to one": "一对一",
    "classify one input\n(no sequence)": "对单个输入分类\n（没有序列）",
    "one to many": "一对多",
    "image → caption": "图像 → 描述",
    "many to one": "多对一",
    "sentiment of\na sentence": "判断句子的情感",
    "many to many, aligned": "多对多（对齐）",
    "tag each word;\npredict the next symbol": "为每个词标注；\n预测下一个符号",
    "many to many, unaligned": "多对多（不对齐）",
    "translate a sentence\n(encoder–decoder)": "翻译句子\n（编码器-解码器）",
    "encoder": "编码器",
    "decoder": "解码器",
    # --- fig_three.py: three_cells ---------------------------------------------------------
    "The simple RNN, the LSTM and the GRU side by side": "简单 RNN、LSTM 与 GRU 并排对照",
    "Three cells drawn at the same scale. Simple RNN: the previous state h_{t-1} and the "
    "input x_t enter one tanh layer, whose output is the new state h_t; the state passes "
    "through a layer with weights at every step. LSTM: the cell state runs along the top "
    "from c_{t-1} to c_t and is only multiplied by the forget gate f_t and added to i_t "
    "times g_t; four layers (sigmoid for f, i, o, tanh for g) read h_{t-1} and x_t, and "
    "h_t = o_t times tanh(c_t) leaves on the right. GRU: the state runs along the top from "
    "h_{t-1} to h_t and is only multiplied by the update gate z_t and added to (1 - z_t) "
    "times n_t; three layers (sigmoid for z and r, tanh for n) read h_{t-1} and x_t, and "
    "the reset gate r_t feeds the n layer.": (
        "按同一比例画出的三种单元。简单 RNN：上一个状态 h_{t-1} 和输入 x_t 进入一个 tanh "
        "层，其输出就是新状态 h_t；状态每一步都要经过一个带权重的层。LSTM：细胞状态沿顶部从 "
        "c_{t-1} 流向 c_t，只与遗忘门 f_t 相乘，再加上 i_t 乘 g_t；四个层（f、i、o 为 "
        "sigmoid，g 为 tanh）读入 h_{t-1} 和 x_t，h_t = o_t 乘 tanh(c_t) 从右侧输出。"
        "GRU：状态沿顶部从 h_{t-1} 流向 h_t，只与更新门 z_t 相乘，再加上 (1 - z_t) 乘 "
        "n_t；三个层（z 和 r 为 sigmoid，n 为 tanh）读入 h_{t-1} 和 x_t，重置门 r_t "
        "输入 n 层。"
    ),
    "simple RNN": "简单 RNN",
    "$h_t = tanh(W x_t + U h_{t-1} + b)$": "$h_t = tanh(W x_t + U h_{t-1} + b)$",
    "1 block of weights; 1 state": "1 组权重；1 个状态",
    "LSTM": "LSTM",
    "$c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t$": "$c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t$",
    "4 blocks of weights; 2 states, $h_t$ and $c_t$": "4 组权重；2 个状态：$h_t$ 和 $c_t$",
    "GRU": "GRU",
    "$h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}$": "$h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}$",
    "3 blocks of weights; 1 state, $h_t$": "3 组权重；1 个状态：$h_t$",
    "layer with its own weights ($σ$ or tanh)": "带自身权重的层（$σ$ 或 tanh）",
    "element-wise product, $⊙$": "逐元素乘积 $⊙$",
    "a state's path": "状态的路径",
    # --- fig_cells.py: lstm_cell and gru_cell --------------------------------------------
    "The LSTM cell": "LSTM 单元",
    "One step of an LSTM. The cell state runs along the top as a thick line from c_{t-1} "
    "on the left to c_t on the right. On the way it is multiplied element-wise by the "
    "forget gate f_t, then the product of the input gate i_t and the cell candidate g_t is "
    "added to it: c_t = f_t * c_{t-1} + i_t * g_t. This path has no weights and no "
    "squashing: it is the constant error carousel. Below, the previous hidden state "
    "h_{t-1} enters from the left and the input x_t from the bottom; both feed four "
    "layers with their own weights: sigmoid layers for f_t, i_t and o_t and a tanh layer "
    "for g_t. On the right, c_t passes through an element-wise tanh and is multiplied by "
    "the output gate o_t to give the new hidden state h_t = o_t * tanh(c_t), which leaves "
    "on the right.": (
        "LSTM 的一步。细胞状态是顶部的一条粗线，从左侧的 c_{t-1} 流向右侧的 c_t。途中它先与"
        "遗忘门 f_t 逐元素相乘，再加上输入门 i_t 与候选值 g_t 的乘积："
        "c_t = f_t * c_{t-1} + i_t * g_t。这条路径上没有权重，也没有挤压函数：它就是恒定误差"
        "传送带。下方，上一个隐藏状态 h_{t-1} 从左侧进入，输入 x_t 从底部进入；两者都输入四个"
        "带自身权重的层：f_t、i_t 和 o_t 为 sigmoid 层，g_t 为 tanh 层。右侧，c_t 经过逐元素 "
        "tanh，再与输出门 o_t 相乘，得到新的隐藏状态 h_t = o_t * tanh(c_t)，从右侧输出。"
    ),
    "cell state: the constant error carousel (no weights, no squashing)": (
        "细胞状态：恒定误差传送带（没有权重，没有挤压函数）"
    ),
    "gate|forget": "遗忘门",
    "gate|input": "输入门",
    "gate|candidate": "候选值",
    "gate|output": "输出门",
    "to the readout": "送往读出层",
    "and to step $t+1$": "和第 $t+1$ 步",
    "a layer with its own weights, for example {example}": "带自身权重的层，例如 {example}",
    "sum": "求和",
    "element-wise, no weights": "逐元素运算，没有权重",
    "The GRU cell, in PyTorch's form": "GRU 单元（PyTorch 的形式）",
    "One step of a GRU. The hidden state runs along the top as a thick line from h_{t-1} "
    "on the left to h_t on the right. On the way it is multiplied element-wise by the "
    "update gate z_t, and (1 - z_t) times the new state n_t is added to it: "
    "h_t = (1 - z_t) * n_t + z_t * h_{t-1}. Below, h_{t-1} and the input x_t feed two "
    "sigmoid layers, the update gate z_t and the reset gate r_t. The new state is built "
    "in the middle: U_n h_{t-1} + b_hn is multiplied element-wise by r_t, added to "
    "W_n x_t + b_in, and passed through an element-wise tanh to give n_t. The reset gate "
    "thus acts after the matrix U_n.": (
        "GRU 的一步。隐藏状态是顶部的一条粗线，从左侧的 h_{t-1} 流向右侧的 h_t。途中它与"
        "更新门 z_t 逐元素相乘，再加上 (1 - z_t) 乘新状态 n_t："
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}。下方，h_{t-1} 和输入 x_t 输入两个 sigmoid "
        "层：更新门 z_t 和重置门 r_t。新状态在中间构成：U_n h_{t-1} + b_hn 与 r_t 逐元素"
        "相乘，加上 W_n x_t + b_in，再经过逐元素 tanh，得到 n_t。因此重置门作用在矩阵 U_n "
        "之后。"
    ),
    "the state: the fraction $z_t$ is kept, the fraction $1 - z_t$ is replaced by $n_t$": (
        "隐藏状态：保留比例 $z_t$，其余比例 $1 - z_t$ 由 $n_t$ 替换"
    ),
    "gate|update": "更新门",
    "gate|reset": "重置门",
    # --- fig_bptt.py: bptt_truncation ------------------------------------------------------
    "Truncated backpropagation through time with k1 = k2 = 3": (
        "截断的随时间反向传播，k1 = k2 = 3"
    ),
    "The network unrolled over six steps. Each step t has an input x_t at the bottom, a "
    "hidden state h_t in the middle and a loss l_t at the top; the initial state h_0 is at "
    "the left. Dark arrows are the forward pass: x_t to h_t, h_{t-1} to h_t, h_t to l_t. "
    "Red arrows are the backward pass: from each loss down into its state, and from each "
    "state back to the one before it. Two shaded windows cover steps 1 to 3 and steps 4 "
    "to 6. The dark arrow from h_3 to h_4 crosses the border between the windows, so the "
    "state is carried forward; no red arrow crosses it, so the gradient stops at each "
    "window's start. The weights are updated once per window.": (
        "在六个时间步上展开的网络。每个时间步 t 底部是输入 x_t，中间是隐藏状态 h_t，顶部是"
        "损失 l_t；初始状态 h_0 在最左侧。深色箭头是前向传播：x_t 到 h_t，h_{t-1} 到 h_t，"
        "h_t 到 l_t。红色箭头是反向传播：从每个损失向下进入它的状态，再从每个状态回到前一个"
        "状态。两个阴影窗口分别覆盖第 1 到 3 步和第 4 到 6 步。从 h_3 到 h_4 的深色箭头越过"
        "两个窗口的边界，所以状态被继续向前传递；没有红色箭头越过边界，所以梯度在每个窗口的"
        "起点停止。每个窗口更新一次权重。"
    ),
    "Truncated BPTT with $k_1 = k_2 = 3$: update every 3 steps, backpropagate through the last 3": (
        "截断的 BPTT，$k_1 = k_2 = 3$：每 3 步更新一次，反向传播只经过最近的 3 步"
    ),
    "window {i}: steps {a} to {b}": "窗口 {i}：第 {a} 到 {b} 步",
    "update of $W$, $U$, $b$": "更新 $W$、$U$、$b$",
    "forward pass: the state $h_t$ is carried across the windows": (
        "前向传播：状态 $h_t$ 跨窗口传递"
    ),
    "gradient: stops at each window's start": "梯度：在每个窗口的起点停止",
    # --- fig_attention.py: attention_seq2seq -----------------------------------------------
    "An encoder-decoder with attention: one decoder step": (
        "带注意力机制的编码器-解码器：解码器的一步"
    ),
    "Bottom left: the encoder reads the source x_1 to x_5 and produces the encoder states "
    "h_1 to h_5. Above each encoder state stands a green bar whose height is its attention "
    "weight alpha_tj; here the third position gets most of the weight. Green lines, as "
    "thick as the weights, join the bars to the context c_t, the weighted sum of the "
    "encoder states. On the right, one decoder step: the previous decoder state s_{t-1} "
    "goes into the score, which compares it with every h_j and gives the weights through "
    "a softmax; the decoder GRU reads the previous symbol y_{t-1} and the context c_t and "
    "turns s_{t-1} into s_t; the readout turns s_t and c_t into the prediction y-hat_t.": (
        "左下：编码器读入源序列 x_1 到 x_5，得到编码器状态 h_1 到 h_5。每个编码器状态上方有"
        "一根绿色柱，高度是它的注意力权重 alpha_tj；这里第三个位置得到了大部分权重。绿色线的"
        "粗细与权重成正比，把各柱连到上下文向量 c_t，即编码器状态的加权和。右侧是解码器的"
        "一步：上一个解码器状态 s_{t-1} 进入打分函数，与每个 h_j 比较，经 softmax 得到权重；"
        "解码器 GRU 读入上一个符号 y_{t-1} 和上下文向量 c_t，把 s_{t-1} 变为 s_t；读出层把 "
        "s_t 和 c_t 变为预测 y-hat_t。"
    ),
    "encoder: $h_j = GRU_{enc}(x_j, h_{j-1})$": "编码器：$h_j = GRU_{enc}(x_j, h_{j-1})$",
    "context $c_t = Σ_j α_{tj} h_j$": "上下文向量 $c_t = Σ_j α_{tj} h_j$",
    "readout: $V$, $b_y$, softmax": "读出层：$V$、$b_y$、softmax",
    "decoder reads $[y_{t-1}; c_t]$": "解码器读入 $[y_{t-1}; c_t]$",
    "score,": "打分，",
    # --- fig_deeper.py: stacked_bidirectional and padded_batch ----------------------------
    "A stacked network with two layers, and a bidirectional network": "两层的堆叠网络与双向网络",
    "Left, stacked: a network of two recurrent layers unrolled over the steps t-1, t and "
    "t+1. The inputs x_t at the bottom feed the first layer's states h_t^(1); each "
    "h_t^(1) feeds the second layer's state h_t^(2) above it, and each h_t^(2) feeds the "
    "output y-hat_t on top. Within each layer an arrow carries the state from one step "
    "to the next. Each layer has its own weights, W^(1) and U^(1) for the first, W^(2) "
    "and U^(2) for the second, the same at every step. Right, bidirectional: one level "
    "over the same three steps. Each input x_t feeds two states: a forward state, "
    "written h with an arrow pointing right, whose chain runs from left to right, and a "
    "backward state, written h with an arrow pointing left, whose chain runs from right "
    "to left. Both states of step t feed the output y-hat_t, which reads them joined, "
    "so the output at step t sees the whole sequence.": (
        "左，堆叠：由两个循环层组成的网络，在时间步 t-1、t 和 t+1 上展开。底部的输入 x_t "
        "输入第一层的状态 h_t^(1)；每个 h_t^(1) 输入它上方第二层的状态 h_t^(2)，每个 "
        "h_t^(2) 输入顶部的输出 y-hat_t。在每一层内，箭头把状态从一步带到下一步。每一层有"
        "自己的权重：第一层是 W^(1) 和 U^(1)，第二层是 W^(2) 和 U^(2)，每一步都相同。"
        "右，双向：同样三个时间步上的一层。每个输入 x_t 输入两个状态：前向状态写作带向右"
        "箭头的 h，它的链从左到右；反向状态写作带向左箭头的 h，它的链从右到左。第 t 步的"
        "两个状态都输入输出 y-hat_t，它读取两者拼接的结果，所以第 t 步的输出能看到整个序列。"
    ),
    "stacked: $M = 2$ layers": "堆叠：$M = 2$ 层",
    "layer 2": "第 2 层",
    "layer 1": "第 1 层",
    "each layer has its own $W$ and $U$, the same at every step": (
        "每一层有自己的 $W$ 和 $U$，每一步都相同"
    ),
    "bidirectional": "双向",
    "direction|backward": "反向",
    "direction|forward": "前向",
    "the output at step $t$ sees the whole sequence": "第 $t$ 步的输出能看到整个序列",
    "A batch of sequences of different lengths, padded to one array": (
        "一批长度不同的序列，填充成一个数组"
    ),
    "Left: a batch of three sequences of lengths 5, 3 and 2, stored in one array of 5 "
    "steps, one row per sequence and one column per step. Each row holds its real steps "
    "x_1 to x_{T_n} in filled boxes, then pale dashed boxes marked pad up to step 5. A "
    "marker at each row's last real step, steps 5, 3 and 2, shows where the final state "
    "is taken. Under the grid: lengths = (5, 3, 2). Right: the same batch as the "
    "backward direction reads it. Each row is reversed up to its own end, so row 2 "
    "reads x_3, x_2, x_1 and row 3 reads x_2, x_1, and the padding stays in place after "
    "them.": (
        "左：一批三个序列，长度分别为 5、3 和 2，存放在一个 5 步的数组中，每个序列一行，"
        "每个时间步一列。每行先是它的实际时间步 x_1 到 x_{T_n}（实心框），然后是标有“填充”"
        "的浅色虚线框，直到第 5 步。每行最后一个实际时间步（第 5、3 和 2 步）上的标记表示"
        "在哪里取最终状态。网格下方：lengths = (5, 3, 2)。右：反向读取时看到的同一批序列。"
        "每行只在自己的长度以内倒序，所以第 2 行读 x_3、x_2、x_1，第 3 行读 x_2、x_1，"
        "填充仍留在原处，排在它们之后。"
    ),
    "pad": "填充",
    "one array of $T = 5$ steps": "一个 $T = 5$ 步的数组",
    "step": "时间步",
    "sequence {n}, $T_{n} = {length}$": "序列 {n}，$T_{n} = {length}$",
    "read backwards, each up to its own end": "反向读取：每行从自己的末尾读起",
    "final state taken here: after step $T_n$, the last real step of sequence $n$": (
        "在此取最终状态：第 $T_n$ 步之后，即序列 $n$ 的最后一个实际时间步"
    ),
}
