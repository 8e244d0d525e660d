from pathlib import Path

from svglib import Figure, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"


def elman():
    fig = Figure(
        "elman_folded_unrolled",
        880,
        420,
        "Elman's simple recurrent network, folded and unrolled in time",
        "Left: the folded network. The input x_t reaches the hidden units h_t through the "
        "weights W; the context units hold a copy of the previous hidden state h_{t-1} and "
        "reach the hidden units through U; the hidden units reach the output y-hat_t through V. "
        "After each step the hidden units are copied into the context units. Right: the same "
        "network unrolled over the steps t-1, t and t+1, one copy per step, each with the same "
        "W, U and V; the copy into the context units becomes the arrow from one hidden state "
        "to the next.",
        "elman",
    )
    W, H = 76, 36  # node size

    fig.comment("Left panel: the folded network")
    fig.group()
    fig.t(tr("folded"), 175, 34, cls="title")
    fig.node(165, 85, "ŷ_t", "y", W, H)
    fig.node(165, 195, "h_t", "h", W, H)
    fig.node(105, 305, "x_t", "x", W, H)
    fig.node(240, 305, "h_{t-1}", "h", W, H)
    fig.t(tr("output units"), 118, 90, anchor="end")
    fig.t(tr("hidden units"), 118, 200, anchor="end")
    fig.t(tr("input units"), 105, 342)
    fig.t(tr("context units"), 240, 342)
    fig.path([(115, 287), (152, 213.5)])  # x_t -> h_t
    fig.m("W", 122, 254, anchor="end")
    fig.path([(230, 287), (180, 213.5)])  # context -> h_t
    fig.m("U", 215, 254, anchor="start")
    fig.path([(165, 177), (165, 103)])  # h_t -> y_t
    fig.m("V", 174, 146, anchor="start")
    # the copy: after every step, the hidden units are copied into the context units
    fig.path([(203, 195), (312, 195), (312, 305), (278, 305)], cls="wire dashed")
    fig.t(tr("copy"), 320, 254, anchor="start")
    fig.m("h_t = ϕ(W x_t + U h_{t-1} + b)", 170, 382, size=16)
    fig.m("ŷ_t = σ(V h_t + b_y)", 170, 405, size=16)
    fig.end()

    fig.comment("The arrow from the folded to the unrolled picture")
    fig.path([(368, 195), (418, 195)], cls="wire", extra=' style="stroke-width:3"')
    fig.t(tr("unroll"), 392, 180)

    fig.comment("Right panel: unrolled over three steps, with the same W, U, V at every step")
    fig.group()
    fig.t(tr("unrolled in time"), 655, 34, cls="title")
    cols = [(520, "t-1"), (655, "t"), (790, "t+1")]
    for x, s in cols:
        fig.node(x, 85, f"ŷ_{{{s}}}", "y", W, H)
        fig.node(x, 195, f"h_{{{s}}}", "h", W, H)
        fig.node(x, 305, f"x_{{{s}}}", "x", W, H)
        fig.path([(x, 287), (x, 213)])
        fig.m("W", x + 8, 256, anchor="start", size=16)
        fig.path([(x, 177), (x, 103)])
        fig.m("V", x + 8, 146, anchor="start", size=16)
        fig.t(tr("step ${s}$").format(s=s), x, 345)
    # hidden-to-hidden arrows: what the context units did in the folded picture
    fig.t("⋯", 446, 200, cls="op-text")
    fig.path([(458, 195), (482, 195)])
    for (xa, _), (xb, _) in zip(cols, cols[1:]):
        fig.path([(xa + W / 2, 195), (xb - W / 2, 195)])
        fig.m("U", (xa + xb) / 2, 187, size=16)
    fig.path([(828, 195), (852, 195)])
    fig.t("⋯", 864, 200, cls="op-text")
    fig.t(tr("the same $W$, $U$, $V$ (and $b$, $b_y$) at every step"), 655, 392)
    fig.end()
    fig.write(OUT + "elman_folded_unrolled.svg")


if __name__ == "__main__":
    main(elman)
