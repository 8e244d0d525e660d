from pathlib import Path

from svglib import Figure, _em, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"

STEPS = ("t-1", "t", "t+1")
Y_Y, Y_2, Y_1, Y_X = 90, 185, 280, 375  # rows: outputs, upper states, lower states, inputs


def h_arrow(fig, x, y, sub, direction, size=18):
    """h_{sub} centred on x, with a small arrow above the h: → for "right", ← for "left"."""
    label = f"h_{{{sub}}}"
    width = size * (_em("h") + 0.7 * _em(sub.replace("-", "−")))
    x0 = x - width / 2
    fig.m(label, x0, y, anchor="start", size=None if size == 18 else size)
    # the h leans right: the middle of its top is a little right of the middle of its advance
    hx, ay, half = x0 + 0.42 * size, y - 0.98 * size, 0.27 * size
    tail, tip, s = (hx - half, hx + half, -1) if direction == "right" else (hx + half, hx - half, 1)
    fig.raw_path(
        f"M {tail:g},{ay:g} L {tip:g},{ay:g} M {tip + 3.5 * s:g},{ay - 2.6:g} L {tip:g},{ay:g} "
        f"L {tip + 3.5 * s:g},{ay + 2.6:g}",
        marker=None,
        extra=' style="stroke-width:1.2"',
    )


def crossing(fig, x, y):
    """A white gap in a horizontal wire where a vertical one passes over it."""
    fig.path([(x, y - 7), (x, y + 7)], cls="halo-white", marker=None)


def stacked_bidirectional():
    fig = Figure(
        "stacked_bidirectional",
        910,
        500,
        "A stacked network with two layers, and a bidirectional network",
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
        "so the output at step t sees the whole sequence.",
        "deeper",
    )
    W, H = 62, 36

    fig.comment("Left panel: two layers stacked, each with its own W and U")
    fig.group()
    cols = [125, 243, 361]
    fig.t(tr("stacked: $M = 2$ layers"), 243, 34, cls="title")
    fig.t(tr("layer 2"), 16, Y_2 - 13, cls="small", anchor="start")
    fig.t(tr("layer 1"), 16, Y_1 - 13, cls="small", anchor="start")
    for x, s in zip(cols, STEPS):
        fig.node(x, Y_Y, f"ŷ_{{{s}}}", "y", W, H)
        fig.node(x, Y_2, f"h_{{{s}}}^{{(2)}}", "h", W, H)
        fig.node(x, Y_1, f"h_{{{s}}}^{{(1)}}", "h", W, H)
        fig.node(x, Y_X, f"x_{{{s}}}", "x", W, H)
        fig.path([(x, Y_X - H / 2), (x, Y_1 + H / 2)])
        fig.path([(x, Y_1 - H / 2), (x, Y_2 + H / 2)])
        fig.path([(x, Y_2 - H / 2), (x, Y_Y + H / 2)])
        fig.t(tr("step ${s}$").format(s=s), x, 414)
    x = cols[0]
    fig.m("W^{(1)}", x + 7, (Y_X + Y_1) / 2 + 5, anchor="start", size=16)
    fig.m("W^{(2)}", x + 7, (Y_1 + Y_2) / 2 + 5, anchor="start", size=16)
    fig.m("V", x + 7, (Y_2 + Y_Y) / 2 + 5, anchor="start", size=16)
    for y, k in ((Y_1, 1), (Y_2, 2)):
        fig.t("⋯", 28, y + 5, cls="op-text")
        fig.path([(40, y), (cols[0] - W / 2, y)])
        for xa, xb in zip(cols, cols[1:]):
            fig.path([(xa + W / 2, y), (xb - W / 2, y)])
        fig.m(f"U^{{({k})}}", (cols[0] + cols[1]) / 2, y - 8, size=16)
        fig.path([(cols[-1] + W / 2, y), (cols[-1] + W / 2 + 22, y)])
        fig.t("⋯", cols[-1] + W / 2 + 34, y + 5, cls="op-text")
    fig.t(tr("each layer has its own $W$ and $U$, the same at every step"), 243, 446)
    fig.m("h_t^{(2)} = ϕ(W^{(2)} h_t^{(1)} + U^{(2)} h_{t-1}^{(2)} + b^{(2)})", 243, 478, size=16)
    fig.end()

    fig.comment("Divider between the panels")
    fig.path([(455, 52), (455, 480)], cls="wire", marker=None, extra=' style="stroke:#d0d0d0"')

    fig.comment(
        "Right panel: one level, read in both directions; the forward states sit a little"
        " left of the column, the backward states a little right, so that every wire is"
        " straight"
    )
    fig.group()
    cols = [575, 693, 811]
    d, Wb = 18, 58  # offset of the two states from the column, and their width
    fig.t(tr("bidirectional"), 693, 34, cls="title")
    fig.t(tr("backward", "direction"), 470, Y_2 - 13, cls="small", anchor="start")
    fig.t(tr("forward", "direction"), 470, Y_1 - 13, cls="small", anchor="start")
    for x, s in zip(cols, STEPS):
        fig.node(x, Y_Y, f"ŷ_{{{s}}}", "y", W, H)
        fig.node(x, Y_X, f"x_{{{s}}}", "x", W, H)
    # the chains first, so that the vertical wires can pass over them
    fig.t("⋯", 482, Y_1 + 5, cls="op-text")
    fig.path([(494, Y_1), (cols[0] - d - Wb / 2, Y_1)])
    for xa, xb in zip(cols, cols[1:]):
        fig.path([(xa - d + Wb / 2, Y_1), (xb - d - Wb / 2, Y_1)])
        fig.path([(xb + d - Wb / 2, Y_2), (xa + d + Wb / 2, Y_2)])
    fig.path([(cols[-1] - d + Wb / 2, Y_1), (cols[-1] + 64, Y_1)])
    fig.t("⋯", cols[-1] + 76, Y_1 + 5, cls="op-text")
    fig.t("⋯", cols[-1] + 76, Y_2 + 5, cls="op-text")
    fig.path([(cols[-1] + 64, Y_2), (cols[-1] + d + Wb / 2, Y_2)])
    fig.path([(cols[0] + d - Wb / 2, Y_2), (494, Y_2)])
    fig.t("⋯", 482, Y_2 + 5, cls="op-text")
    for x, s in zip(cols, STEPS):
        fig.rect(x - d, Y_1, Wb, H, "h")
        h_arrow(fig, x - d, Y_1 + 6, s, "right")
        fig.rect(x + d, Y_2, Wb, H, "h")
        h_arrow(fig, x + d, Y_2 + 6, s, "left")
        fig.path([(x - d, Y_X - H / 2), (x - d, Y_1 + H / 2)])  # x_t -> forward
        crossing(fig, x + 28, Y_1)
        fig.path([(x + 28, Y_X - H / 2), (x + 28, Y_2 + H / 2)])  # x_t -> backward
        crossing(fig, x - 28, Y_2)
        fig.path([(x - 28, Y_1 - H / 2), (x - 28, Y_Y + H / 2)])  # forward -> y
        fig.path([(x + d, Y_2 - H / 2), (x + d, Y_Y + H / 2)])  # backward -> y
        fig.t(tr("step ${s}$").format(s=s), x, 414)
    # y-hat_t = V [forward h_t ; backward h_t] + b_y, in pieces: each h gets its arrow
    y = 446
    fig.m("ŷ_t = V [", 654, y, anchor="end", size=16)
    h_arrow(fig, 665, y, "t", "right", size=16)
    fig.m(";", 680, y, size=16)
    h_arrow(fig, 695, y, "t", "left", size=16)
    fig.m("] + b_y", 705, y, anchor="start", size=16)
    fig.t(tr("the output at step $t$ sees the whole sequence"), 693, 478)
    fig.end()
    fig.write(OUT + "stacked_bidirectional.svg")


def padded_batch():
    lengths = (5, 3, 2)
    T, CW, CH, GAP = 5, 58, 38, 10  # steps, cell width and height, space between rows
    fig = Figure(
        "padded_batch",
        880,
        300,
        "A batch of sequences of different lengths, padded to one array",
        "Left: a batch of three sequences of lengths 5, 3 and 2, stored in one array of 5 "
        "steps, one row per sequence and one column per step. Each row holds its real steps "
        "x_1 to x_{T_n} in filled boxes, then pale dashed boxes marked pad up to step 5. A "
        "marker at each row's last real step, steps 5, 3 and 2, shows where the final state "
        "is taken. Under the grid: lengths = (5, 3, 2). Right: the same batch as the "
        "backward direction reads it. Each row is reversed up to its own end, so row 2 "
        "reads x_3, x_2, x_1 and row 3 reads x_2, x_1, and the padding stays in place after "
        "them.",
        "padded",
    )

    def grid(x0, reverse):
        """The batch as an array: cells from x0, rows from y 100; returns each row's y."""
        rows = []
        for n, length in enumerate(lengths):
            y = 100 + n * (CH + GAP)
            rows.append(y)
            for t in range(1, T + 1):
                x = x0 + (t - 0.5) * CW
                if t <= length:
                    k = length + 1 - t if reverse else t
                    fig.rect(x, y, CW - 6, CH, "x", rx=5)
                    fig.m(f"x_{k}", x, y + 6)
                else:
                    fig.rect(x, y, CW - 6, CH, "pad", rx=5)
                    fig.t(tr("pad"), x, y + 4.5, cls="small")
            # the final state: at the border after the last real step
            fig.circle(x0 + length * CW - 3, y, 7, "mark")
        for t in range(1, T + 1):
            fig.t(str(t), x0 + (t - 0.5) * CW, 72, cls="small")
        return rows

    fig.comment("Left: the batch as stored, padded at the end of each row to T = 5 steps")
    fig.group()
    x0 = 190
    fig.t(tr("one array of $T = 5$ steps"), x0 + T * CW / 2, 32, cls="title")
    fig.t(tr("step"), x0 - 12, 72, cls="small", anchor="end")
    rows = grid(x0, reverse=False)
    for n, (y, length) in enumerate(zip(rows, lengths)):
        label = tr("sequence {n}, $T_{n} = {length}$").format(n=n + 1, length=length)
        fig.t(label, x0 - 12, y + 5, anchor="end")
    fig.t(
        "lengths = (5, 3, 2)",
        x0,
        y + CH / 2 + 32,
        anchor="start",
        extra=" style=\"font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace\"",
    )
    fig.end()

    fig.comment("Right: the same batch as the backward direction reads it")
    fig.group()
    x1 = 550
    fig.t(tr("read backwards, each up to its own end"), x1 + T * CW / 2, 32, cls="title")
    grid(x1, reverse=True)
    fig.end()

    fig.comment("Legend")
    fig.group()
    ly = y + CH / 2 + 62
    fig.circle(x0 + 4, ly - 5, 7, "mark")
    fig.t(
        tr("final state taken here: after step $T_n$, the last real step of sequence $n$"),
        x0 + 18,
        ly,
        anchor="start",
    )
    fig.end()
    fig.write(OUT + "padded_batch.svg")


if __name__ == "__main__":
    main(stacked_bidirectional, padded_batch)
