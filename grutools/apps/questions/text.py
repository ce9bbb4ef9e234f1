"""Dashboard 10's questions: whether a unit follows string literals on the passage shown, how many units follow no
pattern at all, which baselines a GRU trained here beats, and the GRU against the LSTM at an equal budget."""

from __future__ import annotations

import statistics

from ...text.patterns import FOLLOWS, PATTERNS, pattern_units, scan
from ..predict import Check, Number, Question

YES_NO = ["yes", "no"]
BEATS = ["none of them", "the unigram only", "the unigram and the bigram", "all three, Kneser-Ney 5 too"]
BETTER = ["the GRU", "the LSTM", "neither: their seeds overlap"]


def questions(app, dashboard: str) -> dict[str, Question]:
    def string() -> Check | str:
        text = app.read.current_text
        signal = scan(text)["string"]
        if signal.std() == 0:
            return "This passage has no string literal (or is all one): pick another passage in section 1 first."
        reading = app.reader.reading(text)  # the page's own reading of the passage (cached)
        ranked = pattern_units(reading.hidden, signal)
        unit, r = ranked[0]
        answer = YES_NO[0] if abs(r) >= FOLLOWS else YES_NO[1]
        inside = float(signal.mean())
        return Check(answer, f"On this passage ({len(text):,} characters, {inside:.0%} of them inside a string), "
                             f"the unit that follows “{PATTERNS['string']}” best is unit {unit}, r = {r:+.2f}; the "
                             f"next is unit {ranked[1][0]}, r = {ranked[1][1]:+.2f} (of {len(ranked)} units). "
                             f"|r| from {FOLLOWS:g} counts as following here. Another passage, with more or fewer "
                             "strings, can give another answer: try them all before you conclude.")

    def nameless() -> Check | str:
        patterns = app.patterns
        units = len(patterns.best_patterns)
        follow = {}
        for name, r in patterns.best_patterns.values():
            if abs(r) >= FOLLOWS:
                follow[PATTERNS[name]] = follow.get(PATTERNS[name], 0) + 1
        named = "; ".join(f"{n} follow{'s' if n == 1 else ''} {p}" for p, n in sorted(follow.items(), key=lambda kv: -kv[1]))
        return Check(100 * patterns.share, f"On 20,000 characters of test text, {patterns.share:.0%} of the {units} "
                                           f"units have |r| under {FOLLOWS:g} for all five patterns"
                                           + (f"; {named}." if named else ".") + " The famous units that track "
                                           "quotes or brackets exist, but they are a few; most units carry something "
                                           "no single pattern names, or share it among many.")

    def baselines() -> Check | str:
        train = app.train
        if train.job.running:
            return "Wait for the training to end (or press Stop): the check reads the finished run."
        if train.result is None:
            return "Press Train in section 5 first: then this page has your GRU's bits per character."
        if not train.baselines:
            return "This page has no shipped baselines to compare with; make them with `make data`."
        final, result = train.result["bpc"][-1], train.result
        beaten = [name for name, value in train.baselines.items() if final < value]
        listed = ", ".join(f"{name} {value:.2f}" for name, value in train.baselines.items())
        return Check(BEATS[min(len(beaten), 3)], f"After {result['done']} steps your GRU of {result['hidden']} units "
                                                 f"reads the validation text at {final:.2f} bits per character; the "
                                                 f"baselines: {listed}. Counting pairs of characters is easy to beat; "
                                                 "a model of five characters with Kneser-Ney smoothing takes a GRU "
                                                 "longer training" + (f" (the shipped GRU: {train.shipped:.2f})."
                                                                      if train.shipped else "."))

    def lstm() -> Check | str:
        row = app.study.view.children[0]
        plots = getattr(row, "children", ())
        traces = {t.name: [float(v) for v in t.y] for t in plots[0].data} if plots else {}
        if not traces.get("GRU") or not traces.get("LSTM"):
            return "This page has no shipped study to read; make it with `python -m grutools text-study --jobs 2`."
        gru, lstm_ = traces["GRU"], traces["LSTM"]
        apart = min(gru) > max(lstm_) or min(lstm_) > max(gru)
        g, m = statistics.fmean(gru), statistics.fmean(lstm_)
        answer = BETTER[2] if not apart else BETTER[0] if g < m else BETTER[1]
        return Check(answer, f"Test bits per character over {len(gru)} seeds: the GRU {g:.3f} ({min(gru):.3f} to "
                             f"{max(gru):.3f}), the LSTM {m:.3f} ({min(lstm_):.3f} to {max(lstm_):.3f}); lower is "
                             "better. Both have about the same number of parameters and the same steps and batches. "
                             "One text, one budget: a longer run or another text may rank them otherwise.")

    shipped = ", ".join(f"{name} {value:.2f}" for name, value in app.train.baselines.items()) + " bits per character"
    return {
        "string": Question("string", dashboard, "On the passage chosen in section 1, will any unit follow “inside a "
                           "string literal” with r above 0.5 (or below −0.5)?", string,
                           expected="On the first passage (_safe_repr), no: the best is unit 70, r = −0.49; on the "
                                    "other three, yes (|r| 0.64 to 0.66).", choices=YES_NO),
        "nameless": Question("nameless", dashboard, "What share of the GRU's units will follow none of the five "
                             "built-in patterns (|r| under 0.5 for every one)?", nameless,
                             expected="97% of the 256 units (20,000 characters of test text).",
                             number=Number(0, 100, 5, 50, tolerance=10, unit="%")),
        "baselines": Question("baselines", dashboard, "Train a character GRU here. Which of the three baselines "
                              f"({shipped}) will it beat?", baselines,
                              expected="The unigram and the bigram, not Kneser-Ney 5: 3.07 bits per character at "
                                       "64 units and 500 steps (23 s); 2.66 at 128 units when the 2-minute budget "
                                       "stopped the run at step 700.", choices=BEATS),
        "lstm": Question("lstm", dashboard, "A character GRU and an LSTM with as many parameters, the same steps and "
                         "batches: which reads the test text with fewer bits per character?", lstm,
                         expected="The GRU: 2.095 (2.079 to 2.112) against the LSTM's 2.278 (2.267 to 2.292), over "
                                  "three seeds.", choices=BETTER),
    }
