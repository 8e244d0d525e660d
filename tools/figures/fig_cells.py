from pathlib import Path

from svglib import Figure, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"
R = 13  # radius of the element-wise operation circles


def gate_box(fig, cx, cy, fn, role, w=72, h=46):
    """A layer with its own weights: sigma or tanh of (W x_t + U h_{t-1} + b)."""
    fig.rect(cx, cy, w, h, "layer")
    if fn == "tanh":
        fig.add(
            f'<text class="m" x="{cx}" y="{cy + 2}" text-anchor="middle" style="font-size:16px">'
            f'<tspan class="u">tanh</tspan></text>'
        )
    else:
        fig.m(fn, cx, cy + 3, size=20)
    fig.t(tr(role, ctx="gate"), cx, cy + 17, cls="small")


def key(fig, x, y, example):
    """The legend shared by the two cell diagrams."""
    fig.comment("Key")
    fig.group()
    fig.rect(x + 14, y - 5, 28, 20, "layer", rx=4)
    fig.t(
        tr("a layer with its own weights, for example {example}").format(example=example),
        x + 36,
        y,
        anchor="start",
    )
    fig.op(x + 14, y + 26, "×", r=10)
    fig.t(tr("element-wise product, $⊙$"), x + 30, y + 31, anchor="start")
    fig.op(x + 228, y + 26, "+", r=10)
    fig.t(tr("sum"), x + 244, y + 31, anchor="start")
    fig.ellipse(x + 310, y + 26, 20, 11, "op")
    fig.add(
        f'<text class="m" x="{x + 310}" y="{y + 30}" text-anchor="middle" style="font-size:12px">'
        f'<tspan class="u">tanh</tspan></text>'
    )
    fig.t(tr("element-wise, no weights"), x + 336, y + 31, anchor="start")
    fig.end()


def lstm():
    fig = Figure(
        "lstm_cell",
        860,
        560,
        "The LSTM cell",
        "One step of an LSTM. The cell state runs along the top as a thick line from c_{t-1} "
        "on the left to c_t on the right. On the way it is multiplied element-wise by the "
        "forget gate f_t, then the product of the input gate i_t and the cell candidate g_t is "
        "added to it: c_t = f_t * c_{t-1} + i_t * g_t. This path has no weights and no "
        "squashing: it is the constant error carousel. Below, the previous hidden state "
        "h_{t-1} enters from the left and the input x_t from the bottom; both feed four "
        "layers with their own weights: sigmoid layers for f_t, i_t and o_t and a tanh layer "
        "for g_t. On the right, c_t passes through an element-wise tanh and is multiplied by "
        "the output gate o_t to give the new hidden state h_t = o_t * tanh(c_t), which leaves "
        "on the right.",
        "lstm",
    )
    Yc, Yb, Ybus = 100, 360, 440
    xf, xi, xg, xo, xt = 240, 330, 420, 510, 610

    fig.comment("The cell's body")
    fig.add('<rect class="body" x="90" y="62" width="650" height="418" rx="18"/>')
    fig.t(
        tr("cell state: the constant error carousel (no weights, no squashing)"),
        415,
        48,
        cls="note",
    )

    fig.comment("The cell state, c_{t-1} -> x f_t -> + i_t g_t -> c_t")
    fig.group()
    fig.path([(22, Yc), (xf - R, Yc)], cls="c-line", marker="teal")
    fig.path([(xf + R, Yc), (xg - R, Yc)], cls="c-line", marker="teal")
    fig.path([(xg + R, Yc), (836, Yc)], cls="c-line", marker="teal")
    fig.m("c_{t-1}", 30, Yc - 12, anchor="start")
    fig.m("c_t", 830, Yc - 12, anchor="end")
    fig.op(xf, Yc, "×")
    fig.op(xg, Yc, "+")
    fig.dot(xt, Yc, 4)
    fig.end()

    fig.comment("Inputs: h_{t-1} from the left and x_t from below, to every layer")
    fig.group()
    fig.path([(22, Ybus), (xo, Ybus)], marker=None)
    for x in (xf, xi, xg, xo):
        fig.path([(x, Ybus), (x, Yb + 23)])
    for x in (xf, xi, xg):
        fig.dot(x, Ybus)
    fig.path([(150, 540), (150, Ybus)], marker=None)
    fig.dot(150, Ybus)
    fig.m("h_{t-1}", 30, Ybus - 10, anchor="start")
    fig.m("x_t", 160, 530, anchor="start")
    fig.end()

    fig.comment("The four layers, in the order of the cell state's path: f, i, g, o")
    fig.group()
    gate_box(fig, xf, Yb, "σ", "forget")
    gate_box(fig, xi, Yb, "σ", "input")
    gate_box(fig, xg, Yb, "tanh", "candidate")
    gate_box(fig, xo, Yb, "σ", "output")
    fig.end()

    fig.comment("Gate outputs")
    fig.group()
    fig.path([(xf, Yb - 23), (xf, Yc + R)])
    fig.m("f_t", xf + 8, 290, anchor="start")
    fig.op(xg, 230, "×")
    fig.path([(xi, Yb - 23), (xi, 230), (xg - R, 230)])
    fig.m("i_t", xi + 8, 290, anchor="start")
    fig.path([(xg, Yb - 23), (xg, 230 + R)])
    fig.m("g_t", xg + 8, 290, anchor="start")
    fig.path([(xg, 230 - R), (xg, Yc + R)])
    fig.m("i_t ⊙ g_t", xg + 8, 170, anchor="start")
    fig.end()

    fig.comment("Output: h_t = o_t * tanh(c_t)")
    fig.group()
    fig.path([(xt, Yc), (xt, 185)])
    fig.ellipse(xt, 200, 27, 15, "op")
    fig.add(
        f'<text class="m" x="{xt}" y="205" text-anchor="middle" style="font-size:15px">'
        f'<tspan class="u">tanh</tspan></text>'
    )
    fig.m("c_t", xt + 8, 150, anchor="start")
    fig.op(xt, 300, "×")
    fig.path([(xt, 215), (xt, 300 - R)])
    fig.path([(xo, Yb - 23), (xo, 300), (xt - R, 300)])
    fig.m("o_t", 556, 292)
    fig.path([(xt + R, 300), (836, 300)])
    fig.m("h_t", 830, 288, anchor="end")
    fig.t(tr("to the readout"), 836, 322, cls="small", anchor="end")
    fig.t(tr("and to step $t+1$"), 836, 338, cls="small", anchor="end")
    fig.end()

    key(fig, 235, 506, "$f_t = σ(W_f x_t + U_f h_{t-1} + b_f)$")
    fig.write(OUT + "lstm_cell.svg")


def gru():
    fig = Figure(
        "gru_cell",
        860,
        580,
        "The GRU cell, in PyTorch's form",
        "One step of a GRU. The hidden state runs along the top as a thick line from h_{t-1} "
        "on the left to h_t on the right. On the way it is multiplied element-wise by the "
        "update gate z_t, and (1 - z_t) times the new state n_t is added to it: "
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}. Below, h_{t-1} and the input x_t feed two "
        "sigmoid layers, the update gate z_t and the reset gate r_t. The new state is built "
        "in the middle: U_n h_{t-1} + b_hn is multiplied element-wise by r_t, added to "
        "W_n x_t + b_in, and passed through an element-wise tanh to give n_t. The reset gate "
        "thus acts after the matrix U_n.",
        "gru",
    )
    Ys, Ybox, Ybus, Yx = 100, 380, 445, 470
    xtapA, xtapB, xz, xr, xw = 130, 330, 210, 330, 450
    xmz, xplus = 560, 670
    Yzl, Ych = 230, 295

    fig.comment("The cell's body")
    fig.add('<rect class="body" x="90" y="62" width="650" height="428" rx="18"/>')
    fig.t(
        tr("the state: the fraction $z_t$ is kept, the fraction $1 - z_t$ is replaced by $n_t$"),
        415,
        48,
        cls="note",
    )

    fig.comment("The state, h_{t-1} -> x z_t -> + (1 - z_t) n_t -> h_t")
    fig.group()
    fig.path([(22, Ys), (xmz - R, Ys)], cls="h-line", marker="orange")
    fig.path([(xmz + R, Ys), (xplus - R, Ys)], cls="h-line", marker="orange")
    fig.path([(xplus + R, Ys), (836, Ys)], cls="h-line", marker="orange")
    fig.m("h_{t-1}", 30, Ys - 12, anchor="start")
    fig.m("h_t", 830, Ys - 12, anchor="end")
    fig.t(tr("to the readout"), 836, Ys + 26, cls="small", anchor="end")
    fig.t(tr("and to step $t+1$"), 836, Ys + 42, cls="small", anchor="end")
    fig.op(xmz, Ys, "×")
    fig.op(xplus, Ys, "+")
    fig.dot(xtapA, Ys, 4)
    fig.dot(xtapB, Ys, 4)
    fig.end()

    fig.comment("Inputs of the gates: h_{t-1} (dropped from the state) and x_t (from below)")
    fig.group()
    fig.path([(xtapA, Ys), (xtapA, Ybus), (xr, Ybus)], marker=None)
    for x in (xz, xr):
        fig.path([(x, Ybus), (x, Ybox + 23)])
    fig.dot(xz, Ybus)
    fig.path([(170, 560), (170, Ybus)], marker=None)
    fig.dot(170, Ybus)
    fig.dot(170, Yx)
    fig.path([(170, Yx), (xw, Yx), (xw, Ybox + 18)])
    fig.m("x_t", 180, 550, anchor="start")
    fig.end()

    fig.comment("The two gates")
    fig.group()
    gate_box(fig, xz, Ybox, "σ", "update")
    gate_box(fig, xr, Ybox, "σ", "reset")
    fig.end()

    fig.comment("The new state n_t = tanh(W_n x_t + b_in + r_t * (U_n h_{t-1} + b_hn))")
    fig.group()
    fig.rect(xtapB, 175, 150, 36, "layer")
    fig.m("U_n h_{t-1} + b_{hn}", xtapB, 181, size=16)
    fig.path([(xtapB, Ys), (xtapB, 157)])
    fig.rect(xw, Ybox, 130, 36, "layer")
    fig.m("W_n x_t + b_{in}", xw, Ybox + 6, size=16)
    fig.op(xr, Ych, "×")
    fig.path([(xr, Ybox - 23), (xr, Ych + R)])
    fig.m("r_t", xr + 8, 345, anchor="start")
    fig.op(xw, Ych, "+")
    fig.path([(xr + R, Ych), (xw - R, Ych)])
    fig.path([(xw, Ybox - 18), (xw, Ych + R)])
    fig.ellipse(xmz, Ych, 27, 15, "op")
    fig.add(
        f'<text class="m" x="{xmz}" y="{Ych + 5}" text-anchor="middle" style="font-size:15px">'
        f'<tspan class="u">tanh</tspan></text>'
    )
    fig.path([(xw + R, Ych), (xmz - 27, Ych)])
    fig.path([(xmz + 27, Ych), (xplus, Ych), (xplus, Yzl + R)])
    fig.m("n_t", 628, Ych - 8)
    fig.end()

    fig.comment(
        "The update gate: z_t keeps the old state, 1 - z_t lets the new state in."
        " Its wire hops over the wire from U_n to the reset gate's product."
    )
    fig.group()
    fig.path([(xtapB, 193), (xtapB, Ych - R)])
    fig.add(f'<path class="halo" d="M {xz + 30},{Yzl} L {xmz - 30},{Yzl}"/>')
    fig.path([(xz, Ybox - 23), (xz, Yzl), (xtapB - 7, Yzl)], marker=None)
    fig.raw_path(
        f"M {xtapB - 7},{Yzl} A 7,7 0 0 1 {xtapB + 7},{Yzl} L {xmz},{Yzl} L {xmz},{Ys + R}"
    )
    fig.m("z_t", xz + 8, 300, anchor="start")
    fig.dot(xmz, Yzl)
    fig.op(615, Yzl, "1−", r=15, size=15)
    fig.path([(xmz, Yzl), (615 - 15, Yzl)])
    fig.op(xplus, Yzl, "×")
    fig.path([(615 + 15, Yzl), (xplus - R, Yzl)])
    fig.path([(xplus, Yzl - R), (xplus, Ys + R)])
    fig.m("(1 - z_t) ⊙ n_t", xplus + 8, 170, anchor="start", size=16)
    fig.m("z_t", xmz - 8, 170, anchor="end")
    fig.end()

    key(fig, 235, 526, "$z_t = σ(W_z x_t + U_z h_{t-1} + b_z)$")
    fig.write(OUT + "gru_cell.svg")


if __name__ == "__main__":
    main(lstm, gru)
