from pathlib import Path

from svglib import Figure, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"
W, H = 52, 34
Y_L, Y_H, Y_X = 110, 215, 320


def xpos(t):
    return 70 + 112 * t


def bptt():
    fig = Figure(
        "bptt_truncation",
        880,
        440,
        "Truncated backpropagation through time with k1 = k2 = 3",
        "The network unrolled over six steps. Each step t has an input x_t at the bottom, a "
        "hidden state h_t in the middle and a loss l_t at the top; the initial state h_0 is at "
        "the left. Dark arrows are the forward pass: x_t to h_t, h_{t-1} to h_t, h_t to l_t. "
        "Red arrows are the backward pass: from each loss down into its state, and from each "
        "state back to the one before it. Two shaded windows cover steps 1 to 3 and steps 4 "
        "to 6. The dark arrow from h_3 to h_4 crosses the border between the windows, so the "
        "state is carried forward; no red arrow crosses it, so the gradient stops at each "
        "window's start. The weights are updated once per window.",
        "bptt",
    )

    fig.comment("Title")
    fig.t(
        tr(
            "Truncated BPTT with $k_1 = k_2 = 3$: update every 3 steps, "
            "backpropagate through the last 3"
        ),
        440,
        30,
        cls="title",
    )

    fig.comment("Shaded windows: each is one update's backward pass (k2 = 3 steps)")
    fig.group()
    for i, (a, b) in enumerate([(1, 3), (4, 6)]):
        x0, x1 = xpos(a) - 44, xpos(b) + 44
        fig.add(f'<rect class="window" x="{x0}" y="58" width="{x1 - x0}" height="320" rx="10"/>')
        fig.t(
            tr("window {i}: steps {a} to {b}").format(i=i + 1, a=a, b=b),
            (x0 + x1) / 2,
            78,
            cls="note",
        )
        fig.t(tr("update of $W$, $U$, $b$"), (x0 + x1) / 2, 366, cls="small")
    fig.end()

    fig.comment("Nodes")
    fig.group()
    fig.node(xpos(0), Y_H, "h_0", "h", W, H)
    for t in range(1, 7):
        x = xpos(t)
        fig.node(x, Y_L, f"ℓ_{t}", "y", W, H)
        fig.node(x, Y_H, f"h_{t}", "h", W, H)
        fig.node(x, Y_X, f"x_{t}", "x", W, H)
    fig.end()

    fig.comment("Forward pass (dark): the state flows on across the windows' borders")
    fig.group()
    for t in range(1, 7):
        x = xpos(t)
        fig.path([(x, Y_X - H / 2), (x, Y_H + H / 2)])
        fig.path([(x - 9, Y_H - H / 2), (x - 9, Y_L + H / 2)])
        fig.path([(xpos(t - 1) + W / 2, Y_H - 6), (x - W / 2, Y_H - 6)])
    fig.end()

    fig.comment(
        "Backward pass (red): into each state from its loss, and back along the chain,"
        " but never across a window's start"
    )
    fig.group()
    for t in range(1, 7):
        x = xpos(t)
        fig.path([(x + 9, Y_L + H / 2), (x + 9, Y_H - H / 2)], cls="grad", marker="red")
        if t in (1, 4):  # first step of a window: the gradient stops here
            xs = x - W / 2
            fig.path([(xs, Y_H + 7), (xs - 22, Y_H + 7)], cls="grad", marker=None)
            fig.path(
                [(xs - 22, Y_H - 1), (xs - 22, Y_H + 15)],
                cls="grad",
                marker=None,
                extra=' style="stroke-width:3"',
            )
        else:
            fig.path(
                [(x - W / 2, Y_H + 7), (xpos(t - 1) + W / 2, Y_H + 7)], cls="grad", marker="red"
            )
    fig.end()

    fig.comment("Legend")
    fig.group()
    fig.path([(70, 412), (110, 412)])
    fig.t(
        tr("forward pass: the state $h_t$ is carried across the windows"),
        118,
        417,
        anchor="start",
    )
    fig.path([(530, 412), (570, 412)], cls="grad", marker="red")
    fig.t(
        tr("gradient: stops at each window's start"),
        578,
        417,
        cls="note grad-text",
        anchor="start",
    )
    fig.end()
    fig.write(OUT + "bptt_truncation.svg")


if __name__ == "__main__":
    main(bptt)
