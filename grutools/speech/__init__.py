"""A GRU hears: spoken digits (dashboard 09).

    features(audio, sample_rate)        -> (frames, 32) log-mel frames, from a WAV path or bytes, or samples
    predict(model, audio, sample_rate)  -> (frames, 10) the digits' probabilities after every frame
    SpokenDigits(order=, held_out=)      the Free Spoken Digit Dataset as a task; accuracy, confusion
"""

from .audio import AudioError, features, read_audio
from .digits import SpokenDigits, accuracy, confusion, load_recordings, predict

__all__ = ["AudioError", "SpokenDigits", "accuracy", "confusion", "features", "load_recordings", "predict",
           "read_audio"]
