from pathlib import Path

from svglib import Figure, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"
Yt, Yb, Ybus, Yin = 120, 250, 295, 350  # top line, layers, input bus, where x_t enters
BW, BH, R = 34, 30, 10


def box(fig, x, fn):
    fig.rect(x, Yb, BW, BH, "layer", rx=5)
    if fn == "tanh":
        fig.add(
            f'<text class="m" x="{x}" y="{Yb + 4}" text-anchor="middle" '
            f'style="font-size:12px"><tspan class="u">tanh</tspan></text>'
        )
    else:
        fig.m(fn, x, Yb + 6, size=17)


def op(fig, x, y, sym):
    fig.op(x, y, sym, r=R)


def frame(fig, ox, name, lines):
    fig.add(f'<rect class="body" x="{ox + 40}" y="80" width="210" height="235" rx="14"/>')
    fig.t(tr(name), ox + 145, 55, cls="title")
    for i, line in enumerate(lines):
        fig.t(tr(line), ox + 145, 385 + 20 * i, cls="note" if i else "note")


def rnn(fig, ox):
    fig.comment("Simple RNN: the state passes through a layer with weights at every step")
    fig.group()
    frame(
        fig,
        ox,
        "simple RNN",
        ["$h_t = tanh(W x_t + U h_{t-1} + b)$", "1 block of weights; 1 state"],
    )
    xb = ox + 150
    fig.path([(ox + 5, Yt), (ox + 70, Yt)], cls="h-line", marker=None)
    fig.path([(ox + 70, Yt), (ox + 70, Ybus), (xb, Ybus), (xb, Yb + BH / 2)])
    fig.path([(ox + 110, Yin + 10), (ox + 110, Ybus)], marker=None)
    fig.dot(ox + 110, Ybus)
    box(fig, xb, "tanh")
    fig.path([(xb, Yb - BH / 2), (xb, Yt)], marker=None)
    fig.path([(xb, Yt), (ox + 285, Yt)], cls="h-line", marker="orange")
    fig.m("h_{t-1}", ox + 5, Yt - 12, anchor="start", size=16)
    fig.m("h_t", ox + 285, Yt - 12, anchor="end", size=16)
    fig.m("x_t", ox + 118, Yin + 4, anchor="start", size=16)
    fig.end()


def lstm(fig, ox):
    fig.comment("LSTM: the cell state's path has no weights, only x f_t and + i_t g_t")
    fig.group()
    frame(
        fig,
        ox,
        "LSTM",
        ["$c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t$", "4 blocks of weights; 2 states, $h_t$ and $c_t$"],
    )
    xf, xi, xg, xo, xc = ox + 75, ox + 115, ox + 155, ox + 195, ox + 230
    fig.path([(ox + 5, Yt), (xf - R, Yt)], cls="c-line", marker="teal")
    fig.path([(xf + R, Yt), (xg - R, Yt)], cls="c-line", marker="teal")
    fig.path([(xg + R, Yt), (ox + 285, Yt)], cls="c-line", marker="teal")
    op(fig, xf, Yt, "×")
    op(fig, xg, Yt, "+")
    fig.path([(ox + 5, Ybus), (xo, Ybus)], marker=None)
    fig.path([(ox + 58, Yin + 10), (ox + 58, Ybus)], marker=None)
    fig.dot(ox + 58, Ybus)
    for x, fn in [(xf, "σ"), (xi, "σ"), (xg, "tanh"), (xo, "σ")]:
        fig.path([(x, Ybus), (x, Yb + BH / 2)])
        box(fig, x, fn)
    for x in (xf, xi, xg):
        fig.dot(x, Ybus)
    fig.path([(xf, Yb - BH / 2), (xf, Yt + R)])
    op(fig, xg, 185, "×")
    fig.path([(xi, Yb - BH / 2), (xi, 185), (xg - R, 185)])
    fig.path([(xg, Yb - BH / 2), (xg, 185 + R)])
    fig.path([(xg, 185 - R), (xg, Yt + R)])
    fig.dot(xc, Yt, 3.5)
    fig.path([(xc, Yt), (xc, 164)])
    fig.ellipse(xc, 175, 17, 11, "op")
    fig.add(
        f'<text class="m" x="{xc}" y="179" text-anchor="middle" style="font-size:11px">'
        f'<tspan class="u">tanh</tspan></text>'
    )
    op(fig, xc, 215, "×")
    fig.path([(xc, 186), (xc, 215 - R)])
    fig.path([(xo, Yb - BH / 2), (xo, 215), (xc - R, 215)])
    fig.path([(xc + R, 215), (ox + 285, 215)])
    for x, s in [(xf, "f"), (xi, "i"), (xg, "g")]:
        fig.m(f"{s}_t", x + 4, 224, anchor="start", size=14)
    fig.m("o_t", xo - 4, 229, anchor="end", size=14)
    fig.m("c_{t-1}", ox + 5, Yt - 12, anchor="start", size=16)
    fig.m("c_t", ox + 285, Yt - 12, anchor="end", size=16)
    fig.m("h_{t-1}", ox + 5, Ybus - 8, anchor="start", size=16)
    fig.m("h_t", ox + 285, 208, anchor="end", size=16)
    fig.m("x_t", ox + 64, Yin + 4, anchor="start", size=16)
    fig.end()


def gru(fig, ox):
    fig.comment(
        "GRU: the state's path has no weights, only x z_t and + (1 - z_t) n_t."
        " Simplified: the reset gate r_t is drawn as an input of the n layer."
    )
    fig.group()
    frame(
        fig,
        ox,
        "GRU",
        ["$h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}$", "3 blocks of weights; 1 state, $h_t$"],
    )
    xtap, xz, xr, xn = ox + 60, ox + 100, ox + 150, ox + 200
    fig.path([(ox + 5, Yt), (xz - R, Yt)], cls="h-line", marker="orange")
    fig.path([(xz + R, Yt), (xn - R, Yt)], cls="h-line", marker="orange")
    fig.path([(xn + R, Yt), (ox + 285, Yt)], cls="h-line", marker="orange")
    op(fig, xz, Yt, "×")
    op(fig, xn, Yt, "+")
    fig.dot(xtap, Yt, 3.5)
    fig.path([(xtap, Yt), (xtap, Ybus), (xn, Ybus)], marker=None)
    fig.path([(ox + 80, Yin + 10), (ox + 80, Ybus)], marker=None)
    fig.dot(ox + 80, Ybus)
    for x, fn in [(xz, "σ"), (xr, "σ"), (xn, "tanh")]:
        fig.path([(x, Ybus), (x, Yb + BH / 2)])
        box(fig, x, fn)
    for x in (xz, xr):
        fig.dot(x, Ybus)
    fig.path([(xr + BW / 2, Yb), (xn - BW / 2, Yb)])
    fig.path([(xz, Yb - BH / 2), (xz, Yt + R)])
    fig.dot(xz, 170, 3)
    fig.op(xr, 170, "1−", r=12, size=13)
    fig.path([(xz, 170), (xr - 12, 170)])
    op(fig, xn, 170, "×")
    fig.path([(xr + 12, 170), (xn - R, 170)])
    fig.path([(xn, Yb - BH / 2), (xn, 170 + R)])
    fig.path([(xn, 170 - R), (xn, Yt + R)])
    fig.m("z_t", xz + 4, 224, anchor="start", size=14)
    fig.m("r_t", xr + 25, Yb - 10, size=14)
    fig.m("n_t", xn + 4, 224, anchor="start", size=14)
    fig.m("h_{t-1}", ox + 5, Yt - 12, anchor="start", size=16)
    fig.m("h_t", ox + 285, Yt - 12, anchor="end", size=16)
    fig.m("x_t", ox + 86, Yin + 4, anchor="start", size=16)
    fig.end()


def three():
    fig = Figure(
        "three_cells",
        900,
        470,
        "The simple RNN, the LSTM and the GRU side by side",
        "Three cells drawn at the same scale. Simple RNN: the previous state h_{t-1} and the "
        "input x_t enter one tanh layer, whose output is the new state h_t; the state passes "
        "through a layer with weights at every step. LSTM: the cell state runs along the top "
        "from c_{t-1} to c_t and is only multiplied by the forget gate f_t and added to i_t "
        "times g_t; four layers (sigmoid for f, i, o, tanh for g) read h_{t-1} and x_t, and "
        "h_t = o_t times tanh(c_t) leaves on the right. GRU: the state runs along the top from "
        "h_{t-1} to h_t and is only multiplied by the update gate z_t and added to (1 - z_t) "
        "times n_t; three layers (sigmoid for z and r, tanh for n) read h_{t-1} and x_t, and "
        "the reset gate r_t feeds the n layer.",
        "three",
    )
    rnn(fig, 10)
    lstm(fig, 305)
    gru(fig, 600)

    fig.comment("Key")
    fig.group()
    fig.rect(130, 447, 24, 18, "layer", rx=4)
    fig.t(tr("layer with its own weights ($σ$ or tanh)"), 148, 452, anchor="start")
    fig.op(448, 447, "×", r=9)
    fig.t(tr("element-wise product, $⊙$"), 463, 452, anchor="start")
    fig.path([(660, 447), (695, 447)], cls="h-line", marker=None)
    fig.path([(700, 447), (735, 447)], cls="c-line", marker=None)
    fig.t(tr("a state's path"), 743, 452, anchor="start")
    fig.end()
    fig.write(OUT + "three_cells.svg")


if __name__ == "__main__":
    main(three)
