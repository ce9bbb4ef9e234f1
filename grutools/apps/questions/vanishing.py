"""Dashboard 03's questions: how far back the RNN's gradient reaches, whether the GRU's reaches further, the race."""

from __future__ import annotations

from ...plots import NAMES
from ..predict import Check, Question
from ..vanishing import BAD, GOOD

REACH = ["10^-2 or more", "between 10^-10 and 10^-2", "less than 10^-10"]
WHY = {REACH[0]: "Over this few steps, or with the recurrent weights scaled up, the losses per step do not compound "
                 "into nothing; a factor above 1 would make the gradient grow (explode) instead.",
       REACH[1]: "The loss at each step compounds: a longer sequence loses far more.",
       REACH[2]: "A small loss at each step, multiplied over every step between, leaves next to nothing."}
FURTHER = ["much more (100 times or more)", "about as much (within a factor of 100)", "much less (100 times less)"]
RACE_LENGTH = 100
LEARNS = [f"yes: below {GOOD}", f"part way: between {GOOD} and {BAD}", f"no: it stays near the line (above {BAD})"]


def reach(norms) -> float:
    """The share of the last step's gradient that reaches step 1 (0 when it underflows)."""
    return float(norms[0] / norms[-1]) if norms[-1] > 0 else float("nan")


def questions(app, dashboard: str) -> dict[str, Question]:
    def at_init() -> str | None:
        if app.weights.value != "init":
            return "Choose 'at initialisation' under weights first: this question is about fresh weights."
        return None

    def setting() -> str:
        chrono = ", chrono initialisation ticked" if app.chrono.value else ", PyTorch's default biases"
        return (f"at sequence length {app.length.value}, {app.hidden.value} units, recurrent scale "
                f"{app.scale.value:g}{chrono}")

    def rnn_reach() -> Check | str:
        refused = at_init()
        if refused:
            return refused
        share, decay = reach(app.measured["rnn"]["norms"]), app.measured["rnn"]["decay"]
        answer = REACH[0] if share >= 1e-2 else REACH[1] if share >= 1e-10 else REACH[2]
        told = (f"{share:.1e}" if share > 0 else "0: it underflowed below the smallest float32 number (about 1e-38)")
        return Check(answer, f"Measured on this page {setting()}: at step 1 the tanh RNN gets {told} of the last step's "
                             f"gradient. The fitted factor per step back is {decay:.3f}, and {decay:.3f} to the power "
                             f"{app.length.value - 1} is {decay ** (app.length.value - 1):.1e}. {WHY[answer]}")

    def gru_reach() -> Check | str:
        refused = at_init()
        if refused:
            return refused
        shares = {cell: reach(app.measured[cell]["norms"]) for cell in ("rnn", "gru")}
        if any(share != share or share == 0 for share in shares.values()):  # nan or 0: one of them underflowed
            return (f"At sequence length {app.length.value} the gradient underflows to 0 before step 1; set the "
                    "sequence length to 100 or less and check again.")
        ratio = shares["gru"] / shares["rnn"]
        answer = FURTHER[0] if ratio >= 100 else FURTHER[2] if ratio <= 0.01 else FURTHER[1]
        decays = ", ".join(f"{NAMES[c]} ×{app.measured[c]['decay']:.3f}" for c in ("rnn", "gru"))
        why = ("Chrono initialisation starts the update gates near 1, so the GRU's step is close to the identity "
               "and the gradient passes." if app.chrono.value else
               "At initialisation the GRU's update gates sit near 0.5, so each step back it keeps only about half: "
               "the gate can keep the state, but at first it does not; training (or chrono initialisation) makes it.")
        return Check(answer, f"Measured on this page {setting()}: step 1 gets {shares['gru']:.1e} of the last step's "
                             f"gradient in the GRU and {shares['rnn']:.1e} in the tanh RNN, a ratio of {ratio:.2g}. "
                             f"Factors per step back: {decays}. {why}")

    def rnn_race() -> Check | str:
        if app.job.running:
            return "Wait for the race to finish, then check."
        if app.result is None or not app.result.histories.get("rnn") or not app.result.histories["rnn"].loss:
            return f"Set sequence length to {RACE_LENGTH} in the race panel and press Race first."
        history = app.result.histories["rnn"]
        length = int(history.settings.get("length", 0))
        if length != RACE_LENGTH:
            return (f"Your last race was at sequence length {length}. Set sequence length to {RACE_LENGTH} in the "
                    "race panel and press Race.")
        final = history.final_loss
        answer = LEARNS[0] if final < GOOD else LEARNS[1] if final < BAD else LEARNS[2]
        others = "; ".join(f"{NAMES[c]} {h.final_loss:.4f}" for c, h in app.result.histories.items()
                           if c != "rnn" and h.loss)
        diverged = (" The tanh RNN diverged and kept its last finite weights." if "rnn" in app.result.diverged else "")
        return Check(answer, f"In your race at length {length} ({len(history.loss)} steps), the tanh RNN's final "
                             f"training loss is {final:.4f} (the line is 0.167); {others}.{diverged} The RNN's "
                             "gradient from the end barely reaches the first marked number, so it has almost nothing "
                             "to learn from; the gated models keep a path for it open.")

    return {
        "rnn_reach": Question("rnn_reach", dashboard, "At initialisation, sequence length 100: what share of the last "
                              "step's gradient will reach step 1 in the tanh RNN?", rnn_reach,
                              expected="Less than 10^-10: this machine measured 2.0e-20 at length 100 (×0.636 per "
                                       "step back); at length 300 it underflows to 0.",
                              choices=REACH),
        "gru_reach": Question("gru_reach", dashboard, "And the GRU, at initialisation with PyTorch's default biases: "
                              "will step 1 get more of the gradient than in the tanh RNN?", gru_reach,
                              expected="About as much: 6.0e-21 for the GRU against 2.0e-20 for the RNN at length 100 "
                                       "(ratio 0.3); with chrono initialisation ticked the GRU gets 0.18.",
                              choices=FURTHER),
        "rnn_race": Question("rnn_race", dashboard, f"Race at sequence length {RACE_LENGTH}. Will the tanh RNN learn "
                             "the adding problem?", rnn_race,
                             expected="No: in a 600-step race at length 100 this machine's tanh RNN ended at 0.163 "
                                      "(GRU 0.0008, LSTM 0.0119).",
                             choices=LEARNS),
    }
