"""Dashboard 09, a GRU hears: audio in, features, the shipped GRU's accuracy recomputed, refusals, the studies, the
app and its guard."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
import torch

import grutools
from grutools.speech import AudioError, SpokenDigits, accuracy, features, predict, read_audio
from grutools.speech.audio import HOP, MAX_BYTES, N_MELS, RATE, SILENCE, mel_frequencies
from grutools.speech.belief import belief_sentences, settling, settling_sentences
from grutools.speech.digits import LISTEN, NAME, SPEAKERS, load_recordings, pad_left, reorder
from grutools.speech.study import FrameMean, order_findings, speaker_findings, summary

CHECKPOINT = grutools.core.resources.data_dir() / "checkpoints" / "digits_gru.pt"


def wav(samples, rate=RATE, subtype="PCM_16", channels=1) -> bytes:
    buffer = io.BytesIO()
    data = np.asarray(samples, dtype=np.float64)
    if channels == 2:
        data = np.stack([data, data], axis=1)
    soundfile.write(buffer, data, rate, subtype=subtype, format="WAV")
    return buffer.getvalue()


def tone(hz=1000.0, seconds=0.5, rate=RATE, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


@pytest.fixture(scope="module")
def shipped():
    return grutools.load(CHECKPOINT).model


# -- features


@pytest.mark.parametrize("hz", [300.0, 1000.0, 2500.0])
def test_a_pure_tone_peaks_in_the_band_of_its_frequency(hz):
    frames = features(tone(hz), RATE)
    assert frames.shape[1] == N_MELS and frames.dtype == torch.float32
    loudest = int(frames[2:-2].mean(0).argmax())  # away from the edges' padding
    centres = mel_frequencies()
    assert loudest == int(np.abs(centres - hz).argmin()), (loudest, centres[loudest], hz)


def test_frames_come_every_16_ms_and_silence_is_the_floor():
    frames = features(np.concatenate([tone(seconds=0.3), np.zeros(int(0.3 * RATE))]), RATE)
    assert len(frames) == int(0.6 * RATE) // HOP + 1
    assert torch.allclose(frames[-3:], torch.full((3, N_MELS), SILENCE))  # digital silence: the -80 dB floor
    assert frames.max() == pytest.approx(1.0)  # the loudest band is 0 dB


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_8_16_24_32_bit_and_float_wavs_give_the_same_frames(subtype):
    reference = features(tone(), RATE)
    frames = features(wav(tone(), subtype=subtype), None)
    if subtype == "PCM_U8":  # 8 bits: quantisation noise at about -50 dB, so only the tone's loud bands compare
        loud = reference > 0  # louder than -40 dB
        assert loud.sum() > 20 and (frames - reference)[loud].abs().max() < 0.05
    else:
        assert (frames - reference).abs().max() < 2e-3


def test_any_rate_is_resampled_and_stereo_becomes_mono():
    reference = features(tone(), RATE)
    for rate in (16000, 44100, 48000):
        frames = features(wav(tone(rate=rate), rate=rate, channels=2))
        assert frames.shape == reference.shape
        assert (frames - reference)[:, :24].abs().max() < 0.05, rate
    stereo = np.stack([tone(), tone()], axis=1)
    assert torch.allclose(features(stereo, RATE), reference)
    assert torch.allclose(features(torch.tensor(tone()), RATE), reference)
    assert torch.allclose(features((tone() * 32767).astype(np.int16), RATE), reference, atol=1e-3)


@pytest.mark.parametrize("make, says", [
    (lambda: b"hello, not a sound", "not a WAV file"),
    (lambda: b"", "empty"),
    (lambda: wav(np.zeros(RATE)), "silent"),
    (lambda: wav(tone() * 1e-6), "silent"),
    (lambda: wav(tone(seconds=6.0)), "6.0 s long; the limit is 5 s"),
    (lambda: wav(tone(seconds=0.02)), "at least 100 ms"),
    (lambda: b"RIFF" + bytes(4) + b"WAVE" + bytes(MAX_BYTES), "over the 8 MB limit"),
    (lambda: b"RIFF\x24\x00\x00\x00WAVEfmt garbage", "could not be read as a WAV file"),
    (lambda: wav(np.where(np.arange(4000) == 1200, np.nan, tone()[:4000]), subtype="FLOAT"), "NaN"),
])
def test_a_bad_recording_is_refused_with_a_sentence(make, says):
    with pytest.raises(AudioError, match=says):
        read_audio(make(), name="upload.wav")


def test_arrays_need_a_rate_and_a_sensible_shape():
    with pytest.raises(AudioError, match="sample_rate"):
        features(tone())
    with pytest.raises(AudioError, match="between 1000 and 384000"):
        features(tone(), 10)
    with pytest.raises(AudioError, match="1-D .* or 2-D"):
        features(np.zeros((2, 3, 4)), RATE)
    with pytest.raises(AudioError, match="no such file"):
        features("/nonexistent/digit.wav")


# -- the shipped data and model


def test_the_shipped_features_are_fsdd_with_its_standard_split():
    recordings = load_recordings()
    assert len(recordings) == 3000 and sorted(set(recordings.speakers)) == list(SPEAKERS)
    task = SpokenDigits()
    assert len(task.parts["train"]) == 2700 and len(task.parts["test"]) == 300
    assert all(int(recordings.indexes[i]) < 5 for i in task.parts["test"])
    assert sorted(p.name for p in LISTEN.glob("*.wav")) == sorted(
        f"{d}_{s}_{i}.wav" for d in range(10) for s in SPEAKERS for i in range(5))


def test_the_shipped_frames_are_those_of_the_wav_files_within_their_quantisation():
    recordings = load_recordings()
    for path in sorted(LISTEN.glob("*.wav"))[::37]:
        digit, speaker, index = NAME.match(path.name).groups()
        shipped = recordings.frames[recordings.find(int(digit), speaker, int(index))]
        assert (features(path) - shipped).abs().max() <= (80 / 255) / 40 / 2 + 1e-6  # half a 0.31 dB step


def test_the_shipped_gru_reaches_95_percent_from_the_wav_files_through_predict(shipped):
    """The figure in data/README.md, recomputed from the 300 test recordings as a user would get it."""
    right, total = 0, 0
    recordings = load_recordings()
    for path in sorted(LISTEN.glob("*.wav")):
        digit, speaker, index = NAME.match(path.name).groups()
        probabilities = predict(shipped, path)
        assert probabilities.shape == (len(features(path)), 10)
        assert torch.allclose(probabilities.sum(1), torch.ones(len(probabilities)))
        right += int(probabilities[-1].argmax()) == int(digit)
        total += 1
        if total % 50 == 0:  # predict on the WAV agrees with the model on the shipped features
            on_features = predict(shipped, recordings.frames[recordings.find(int(digit), speaker, int(index))])
            assert (probabilities - on_features).abs().max() < 0.05
    assert total == 300
    assert right / total >= 0.95
    readme = (grutools.core.resources.data_dir() / "README.md").read_text()
    assert f"{100 * right / total:.1f}% ({right} of 300) from the 300 WAV files" in readme


def test_the_shipped_accuracy_on_the_features_matches_its_metadata_and_the_readme(shipped):
    value = accuracy(shipped, SpokenDigits())
    assert value == pytest.approx(grutools.load(CHECKPOINT).metadata["test_accuracy"])
    readme = (grutools.core.resources.data_dir() / "README.md").read_text()
    assert f"{100 * value:.1f}% ({round(300 * value)} of 300) from the shipped" in readme


def test_predict_is_the_softmax_of_the_model_at_every_frame(shipped):
    x = load_recordings().frames[0]
    logits = shipped(x[None])[0]
    by_hand = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
    assert torch.allclose(predict(shipped, x), by_hand, atol=1e-6)
    with pytest.raises(ValueError, match="readout='all'"):
        predict(grutools.SequenceModel("gru", N_MELS, 8, 10, readout="last"), x)


# -- the task


def test_batches_are_left_padded_with_silence_so_every_recording_ends_at_the_last_step():
    frames = [torch.ones(3, N_MELS), torch.zeros(5, N_MELS)]
    batch = pad_left(frames)
    assert batch.shape == (2, 5, N_MELS)
    assert torch.equal(batch[0, :2], torch.full((2, N_MELS), SILENCE)) and torch.equal(batch[0, 2:], frames[0])
    task = SpokenDigits()
    x, y = task.sample(32, seed=3)
    assert x.shape[0] == 32 and y.shape == (32,) and torch.equal(*[task.sample(32, seed=3)[0]] * 2)


def test_reversed_and_shuffled_orders_keep_the_frames():
    frames = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(reorder(frames, "reversed"), frames.flip(0))
    shuffled = reorder(frames, "shuffled", torch.Generator().manual_seed(0))
    assert not torch.equal(shuffled, frames) and torch.equal(shuffled.sort(0).values, frames)
    with pytest.raises(ValueError, match="order must be"):
        reorder(frames, "sideways")


def test_a_held_out_speaker_is_in_no_training_batch():
    task = SpokenDigits(held_out="nicolas")
    recordings = task.recordings
    assert {recordings.speakers[i] for i in task.parts["test"]} == {"nicolas"}
    assert "nicolas" not in {recordings.speakers[i] for i in task.parts["train"]}
    with pytest.raises(ValueError, match="one of the speakers"):
        SpokenDigits(held_out="someone")


def test_the_mean_of_frames_ignores_order():
    model = FrameMean(N_MELS, 16, 10, seed=0)
    x = torch.randn(2, 7, N_MELS)
    assert torch.allclose(model(x), model(x[:, torch.randperm(7)]), atol=1e-6)


def test_a_small_gru_learns_the_digits_well_above_chance():
    from grutools.speech.study import digit_model, train_digits

    task = SpokenDigits()
    model = digit_model("gru", hidden=16, seed=0)
    before = accuracy(model, task)
    train_digits(model, task, 150, seed=0)
    after = accuracy(model, task)
    assert after > max(0.35, before + 0.2), (before, after)


# -- when it knows, and the studies' sentences


def test_settling_finds_the_frame_from_which_the_answer_stays_on_top():
    p = np.full((6, 10), 0.05)
    for frame, top in enumerate([4, 4, 6, 7, 7, 7]):
        p[frame, top] = 0.6
    s = settling(p)
    assert (s.answer, s.frame, s.rival, s.frames) == (7, 3, 6, 6)
    assert s.seconds == pytest.approx(4 * HOP / RATE)
    assert "just before, it thought six" in " ".join(belief_sentences(p, 7))
    assert "wrong: it was five" in belief_sentences(p, 5)[0]
    assert settling(p[3:]).frame == 0


def test_settling_sentences_count_the_digit_changed_from():
    def one(answer, rival, frame, frames=10):
        return answer, settling(np.eye(10)[[rival] * frame + [answer] * (frames - frame)])

    sentences = settling_sentences([one(9, 5, 7), one(9, 5, 8), one(9, 1, 6), one(3, 8, 2)])
    assert "nine at 70% of the way in, changing its mind from five in 2 of 3" in sentences[1]


ORDER = [{"model": m, "seed": s, "steps": 10, "parameters": p, "accuracy": a, "seconds": 1.0}
         for m, p, accs in [("GRU", 100, (0.96, 0.97, 0.98)), ("LSTM", 130, (0.965, 0.97, 0.975)),
                            ("tanh RNN", 40, (0.7, 0.75, 0.8)), ("mean of frames (MLP)", 20, (0.8, 0.82, 0.84)),
                            ("GRU, frames reversed", 100, (0.99, 0.995, 0.999)),
                            ("GRU, frames shuffled", 100, (0.9, 0.92, 0.94))]
         for s, a in enumerate(accs)]


def test_the_order_findings_follow_the_numbers_and_their_spread():
    text = " ".join(order_findings(ORDER))
    assert "the GRU in time order 97.0% (seeds 96.0-98.0): 15 points more" in text
    assert "5.0 points under time order, and 10 above the mean of frames" in text
    assert "more than forwards, beyond the seeds' spread" in text  # 99.0-99.9 against 96.0-98.0
    assert "The LSTM gets 97.0% (seeds 96.5-97.5) with 130 parameters to the GRU's 100: as good as the GRU" in text
    assert "The tanh RNN gets 75.0%" in text and "worse than the GRU" in text
    overlapping = [dict(r, accuracy=r["accuracy"] - 0.02) if r["model"] == "GRU, frames reversed" else r for r in ORDER]
    assert "as well as forwards (the seeds overlap)" in " ".join(order_findings(overlapping))


def test_the_speaker_findings_say_how_much_worse_a_new_voice_is():
    rows = [{"speaker": s, "seed": 0, "steps": 10, "accuracy": a} for s, a in [("theo", 0.9), ("nicolas", 0.6)]]
    [sentence] = speaker_findings(rows, 0.97)
    assert "75% of that speaker's digits on average: 90% for theo, 60% for nicolas" in sentence
    assert "97.0%: 22 points more" in sentence
    assert summary(rows, "speaker")["theo"] == (0.9, 0.9, 0.9, 1)


# -- the app


@pytest.fixture(scope="module")
def app():
    from grutools.apps import SpeechExplorer

    return SpeechExplorer()


def test_the_app_opens_on_a_recording_it_names_and_redraws_for_another(app):
    assert len(app.hearing.plot.data) == 14 and app.hearing.player.value[:4] == b"RIFF"
    assert "seven" in app.hearing.findings.value and "right" in app.hearing.findings.value
    app.hearing.digit.value = 6
    assert "six" in app.hearing.plot.layout.title.text and "six" in app.hearing.findings.value
    assert "named right" in app.confusion.plot.layout.title.text
    assert "What the shipped runs show" in app.study.view.children[1].value


def upload(widget, name: str, data: bytes) -> None:
    import datetime

    widget.value = ({"name": name, "type": "audio/wav", "size": len(data), "content": memoryview(data),
                     "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def test_an_upload_is_read_and_a_bad_one_refused_keeping_the_page(app):
    shown = app.hearing.plot.layout.title.text
    for data, says in [(b"no sound here", "not a WAV file"), (wav(np.zeros(RATE)), "silent"),
                       (wav(tone(seconds=6.0)), "the limit is 5 s"), (wav(tone(seconds=0.05)), "at least 100 ms")]:
        upload(app.hearing.upload, "mine.wav", data)
        assert says in app.hearing.status.value and "Traceback" not in app.hearing.status.value
        assert app.hearing.plot.layout.title.text == shown
    recording = wav(read_audio(LISTEN / "7_theo_1.wav"), rate=RATE, subtype="PCM_24", channels=2)
    upload(app.hearing.upload, "seven.wav", recording)
    assert "seven.wav" in app.hearing.plot.layout.title.text and "seven" in app.hearing.findings.value
    app.hearing.recorder.wav = wav(read_audio(LISTEN / "3_george_2.wav"), rate=RATE)  # the microphone's road
    assert "your recording" in app.hearing.plot.layout.title.text
    assert app.hearing.status.value.count("frames of 16 ms")


def test_the_microphone_button_takes_bytes_only_and_no_more_than_an_upload(app):
    from grutools.apps.guard import refusal

    recorder = app.hearing.recorder
    assert refusal(recorder, {"wav": b"RIFF"}) is None
    assert "bytes" in refusal(recorder, {"wav": "text"})
    assert "limit" in refusal(recorder, {"wav": bytes(MAX_BYTES + 1)})
    assert refusal(recorder, {"max_seconds": 60.0}) is not None and refusal(recorder, {"_esm": "x"}) is not None
    assert refusal(app.hearing.player, {"value": b"RIFF"}) is not None  # the page cannot change what plays


def test_training_here_makes_the_gru_yours_above(app):
    app.train.steps.value = 300
    app.train.hidden.value = 16
    app.train.start(wait=True)
    assert "names" in app.train.findings.value and app.hearing.model.value == "yours"
    assert app.hearing.current_model() is app.hearing.models["yours"]
    assert app.train.result["checked"][-1] == 300 and len(app.train.result["accuracy"]) == 7
    assert "your GRU" in app.hearing.findings.value
