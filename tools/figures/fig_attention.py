import math
from pathlib import Path

from svglib import Figure, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"
ALPHA = [0.04, 0.09, 0.66, 0.16, 0.05]  # illustrative weights alpha_{tj}, summing to 1
XS = [80, 165, 250, 335, 420]  # source positions j = 1..5
Y_X, Y_H, Y_BASE = 410, 330, 282  # inputs, encoder states, base of the bars
BAR_SCALE = 110
CTX = (250, 105)  # the context c_t


def attention():
    fig = Figure(
        "attention_seq2seq",
        880,
        480,
        "An encoder-decoder with attention: one decoder step",
        "Bottom left: the encoder reads the source x_1 to x_5 and produces the encoder states "
        "h_1 to h_5. Above each encoder state stands a green bar whose height is its attention "
        "weight alpha_tj; here the third position gets most of the weight. Green lines, as "
        "thick as the weights, join the bars to the context c_t, the weighted sum of the "
        "encoder states. On the right, one decoder step: the previous decoder state s_{t-1} "
        "goes into the score, which compares it with every h_j and gives the weights through "
        "a softmax; the decoder GRU reads the previous symbol y_{t-1} and the context c_t and "
        "turns s_{t-1} into s_t; the readout turns s_t and c_t into the prediction y-hat_t.",
        "att",
    )

    fig.comment("Encoder: h_j = GRU_enc(x_j, h_{j-1})")
    fig.group()
    fig.path([(28, Y_H), (XS[0] - 27, Y_H)])
    fig.m("h_0", 36, Y_H - 9, size=14)
    for j, x in enumerate(XS, start=1):
        fig.node(x, Y_X, f"x_{j}", "x", 50, 32)
        fig.node(x, Y_H, f"h_{j}", "h", 50, 32)
        fig.path([(x, Y_X - 16), (x, Y_H + 16)])
    for xa, xb in zip(XS, XS[1:]):
        fig.path([(xa + 25, Y_H), (xb - 25, Y_H)])
    fig.t(tr("encoder: $h_j = GRU_{enc}(x_j, h_{j-1})$"), 250, 456)
    fig.end()

    fig.comment("Attention weights alpha_{tj}: bars above the encoder states")
    fig.group()
    for j, (x, a) in enumerate(zip(XS, ALPHA), start=1):
        hgt = BAR_SCALE * a
        fig.add(
            f'<rect class="att" x="{x - 12}" y="{Y_BASE - hgt:.1f}" width="24" height="{hgt:.1f}"/>'
        )
        fig.m(f"α_{{t{j}}}", x, Y_BASE + 20, size=15)
    fig.path([(56, Y_BASE), (444, Y_BASE)], marker=None, extra=' style="stroke:#999"')
    fig.end()

    fig.comment("The weighted sum: line width proportional to alpha_{tj}")
    fig.group()
    r = 24
    for x, a in zip(XS, ALPHA):
        x0, y0 = x, Y_BASE - BAR_SCALE * a
        dx, dy = CTX[0] - x0, CTX[1] - y0
        d = math.hypot(dx, dy)
        x1, y1 = CTX[0] - dx * r / d, CTX[1] - dy * r / d
        fig.add(
            f'<path class="att-line" d="M {x0},{y0:.1f} L {x1:.1f},{y1:.1f}" '
            f'style="stroke-width:{1 + 12 * a:.1f}"/>'
        )
    fig.circle(CTX[0], CTX[1], r, "att")
    fig.m("c_t", CTX[0], CTX[1] + 6)
    fig.t(tr("context $c_t = Σ_j α_{tj} h_j$"), CTX[0], 62)
    fig.end()

    fig.comment(
        "Decoder step: s_t = GRU_dec([y_{t-1}; c_t], s_{t-1}), "
        "y-hat_t = softmax(V [s_t; c_t] + b_y)"
    )
    fig.group()
    xs_prev, xgru, xs, yd = 565, 690, 810, 250
    fig.node(xs_prev, yd, "s_{t-1}", "h", 62, 34)
    fig.rect(xgru, yd, 92, 40, "layer")
    fig.m("GRU_{dec}", xgru, yd + 6, size=17)
    fig.node(xs, yd, "s_t", "h", 56, 34)
    fig.path([(xs_prev + 31, yd), (xgru - 46, yd)])
    fig.path([(xgru + 46, yd), (xs - 28, yd)])
    fig.node(xgru, 355, "y_{t-1}", "x", 62, 34)
    fig.path([(xgru, 338), (xgru, yd + 20)])
    fig.node(xs, CTX[1], "ŷ_t", "y", 56, 34)
    fig.path([(xs, yd - 17), (xs, CTX[1] + 17)])
    fig.path(
        [(CTX[0] + r, CTX[1]), (xs - 28, CTX[1])],
        cls="att-line",
        marker="green",
        extra=' style="stroke-width:2"',
    )
    fig.dot(xgru, CTX[1], 3.5)
    fig.path(
        [(xgru, CTX[1]), (xgru, yd - 20)],
        cls="att-line",
        marker="green",
        extra=' style="stroke-width:2"',
    )
    fig.t(tr("readout: $V$, $b_y$, softmax"), xs + 30, 72, cls="small", anchor="end")
    fig.t(tr("decoder reads $[y_{t-1}; c_t]$"), xgru + 8, 300, cls="small", anchor="start")
    fig.end()

    fig.comment("The score: compares s_{t-1} with every h_j; a softmax over j gives alpha_{tj}")
    fig.group()
    xsc, ysc = 505, 160
    fig.rect(xsc, ysc, 92, 40, "layer")
    fig.t(tr("score,"), xsc, ysc - 3, cls="small")
    fig.t("softmax", xsc, ysc + 12, cls="small")
    fig.path([(xs_prev, yd - 17), (xs_prev, ysc), (xsc + 46, ysc)], cls="wire dashed")
    fig.path([(XS[-1] + 25, Y_H), (xsc, Y_H), (xsc, ysc + 20)], cls="wire dashed")
    fig.path([(xsc - 46, ysc), (448, ysc), (448, 268)], cls="wire dashed")
    fig.m("α_{tj}", 456, 232, anchor="start", size=15)
    fig.m("h_j", 512, 290, anchor="start", size=15)
    fig.m("s_{t-1}", 573, 200, anchor="start", size=15)
    fig.end()

    fig.comment("The equations of the attention step")
    fig.group()
    fig.m("e_{tj} = v^⊤ tanh(W_a h_j + U_a s_{t-1} + b)", 530, 400, anchor="start", size=15)
    fig.m("α_{tj} = exp(e_{tj}) / Σ_k exp(e_{tk})", 530, 424, anchor="start", size=15)
    fig.m("c_t = Σ_j α_{tj} h_j", 530, 448, anchor="start", size=15)
    fig.end()
    fig.write(OUT + "attention_seq2seq.svg")


if __name__ == "__main__":
    main(attention)
