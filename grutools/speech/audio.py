"""Sound in, log-mel frames out: the one path for the shipped recordings and for a student's upload.

Reading goes through ``soundfile`` (libsndfile: 8-, 16-, 24- and 32-bit and float WAVs alike), resampling and the
mel spectrogram through ``librosa``, the audio library most speech work in Python uses and cites; its defaults
(Slaney's mel scale, soxr resampling) are the ones papers report.

A recording becomes 8 kHz mono (FSDD's own rate), is scaled to a peak of 1 (speakers recorded at different levels),
and is cut into 32 ms windows every 16 ms. Each frame holds 32 mel bands of power in dB below the recording's loudest
band, floored at -80 dB, then mapped to about [-1, 1] by ``dB / 40 + 1``: fixed numbers, so that a model needs no
statistics of its training set to read a new recording.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

RATE = 8000  # Hz, FSDD's rate; everything is resampled to it
N_FFT = 256  # 32 ms windows
HOP = 128  # a frame every 16 ms
N_MELS = 32
FLOOR_DB = -80.0
SILENCE = FLOOR_DB / 40 + 1  # a frame of silence, as a model sees it (what shorter recordings are padded with)
MIN_SECONDS = 0.1
MAX_SECONDS = 5.0
MAX_BYTES = 8 * 2**20  # 5 s of 96 kHz stereo float is 3.8 MB
SILENT_PEAK = 1e-4  # -80 dB below full scale


class AudioError(ValueError):
    """A recording that cannot be used, with a sentence that says why."""


def frame_seconds(frame: int) -> float:
    """The time in seconds at the centre of frame ``frame``."""
    return frame * HOP / RATE


def _wav_bytes(source: bytes | bytearray, name: str) -> tuple[np.ndarray, int]:
    import soundfile

    if len(source) == 0:
        raise AudioError(f"{name} is empty.")
    if len(source) > MAX_BYTES:
        raise AudioError(f"{name} is {len(source) / 2**20:.1f} MB, over the {MAX_BYTES / 2**20:.0f} MB limit for a "
                         f"recording (up to {MAX_SECONDS:.0f} s).")
    head = bytes(source[:12])
    if not (head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE"):
        raise AudioError(f"{name} is not a WAV file (a WAV file starts with 'RIFF....WAVE'); save the recording as "
                         "WAV and try again.")
    try:
        samples, rate = soundfile.read(io.BytesIO(bytes(source)), dtype="float32", always_2d=True)
    except Exception as error:  # libsndfile's errors all mean a damaged or unusual file
        raise AudioError(f"{name} could not be read as a WAV file: {str(error).strip() or type(error).__name__}.") \
            from error
    return samples, int(rate)


def _as_array(audio, sample_rate) -> tuple[np.ndarray, int]:
    samples = audio.detach().cpu().numpy() if isinstance(audio, Tensor) else np.asarray(audio)
    if sample_rate is None:
        raise AudioError("an array of samples needs its sample_rate, e.g. features(samples, 8000).")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or not 1000 <= sample_rate <= 384000:
        raise AudioError(f"sample_rate must be a whole number of Hz between 1000 and 384000; got {sample_rate!r}.")
    if samples.dtype.kind not in "fiu":
        raise AudioError(f"audio samples must be numbers; got an array of dtype {samples.dtype}.")
    if samples.dtype.kind in "iu":  # integer PCM, scaled to [-1, 1] as a WAV reader does
        info = np.iinfo(samples.dtype)
        samples = (samples.astype(np.float64) - (info.max + info.min + 1) / 2) / ((info.max - info.min + 1) / 2)
    if samples.ndim == 1:
        samples = samples[:, None]
    elif samples.ndim == 2:
        if samples.shape[0] <= 8 < samples.shape[1]:  # (channels, samples), as librosa keeps stereo
            samples = samples.T
    else:
        raise AudioError(f"audio must be 1-D (mono) or 2-D (samples, channels); got shape {tuple(samples.shape)}.")
    return samples.astype(np.float32), int(sample_rate)


def read_audio(audio, sample_rate: int | None = None, name: str | None = None) -> np.ndarray:
    """A recording as 8 kHz mono float32 samples, checked.

    ``audio`` is a WAV file's path or bytes (any bit depth, mono or stereo, any rate), or a NumPy array or tensor
    of samples at ``sample_rate`` (1-D, or 2-D as ``(samples, channels)``). Raises :class:`AudioError` naming the
    problem: not a WAV file, empty, silent, too short or too long, too large, NaN or infinite samples.

    >>> read_audio(np.sin(np.arange(16000) / 10), 16000).shape
    (8000,)
    """
    if isinstance(audio, (str, os.PathLike)):
        path = Path(audio)
        name = name or path.name
        if not path.is_file():
            raise AudioError(f"no such file: {path}")
        if path.stat().st_size > MAX_BYTES:
            raise AudioError(f"{name} is {path.stat().st_size / 2**20:.1f} MB, over the {MAX_BYTES / 2**20:.0f} MB "
                             "limit for a recording.")
        samples, rate = _wav_bytes(path.read_bytes(), name)
    elif isinstance(audio, (bytes, bytearray, memoryview)):
        samples, rate = _wav_bytes(bytes(audio), name or "the file")
    else:
        samples, rate = _as_array(audio, sample_rate)
    name = name or "the recording"
    if samples.shape[0] == 0 or samples.shape[1] == 0:
        raise AudioError(f"{name} holds no samples.")
    bad = ~np.isfinite(samples)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise AudioError(f"{name} has NaN or infinite samples (the first at {first / rate:.3f} s); it cannot be heard "
                         "or analysed.")
    seconds = samples.shape[0] / rate
    if seconds > MAX_SECONDS:
        raise AudioError(f"{name} is {seconds:.1f} s long; the limit is {MAX_SECONDS:.0f} s (a spoken digit takes "
                         "under 1 s). Cut it to the digit.")
    if seconds < MIN_SECONDS:
        raise AudioError(f"{name} is {seconds * 1000:.0f} ms long; a spoken digit takes at least "
                         f"{MIN_SECONDS * 1000:.0f} ms.")
    mono = samples.mean(axis=1)
    peak = float(np.abs(mono).max())
    if peak < SILENT_PEAK:
        loudness = "digital silence" if peak == 0 else f"its loudest sample is {20 * np.log10(peak):.0f} dB below full scale"
        raise AudioError(f"{name} is silent ({loudness}); record the digit again, closer to the microphone.")
    if rate != RATE:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=RATE)
    return np.ascontiguousarray(mono, dtype=np.float32)


def decibels(samples: np.ndarray) -> np.ndarray:
    """``(frames, N_MELS)`` mel power in dB below the loudest band, floored at ``FLOOR_DB``, of 8 kHz samples."""
    import librosa

    peak = float(np.abs(samples).max())
    scaled = samples / peak if peak > 0 else samples
    mel = librosa.feature.melspectrogram(y=scaled, sr=RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, fmax=RATE / 2)
    db = librosa.power_to_db(mel, ref=np.max, amin=1e-10, top_db=-FLOOR_DB)
    return np.maximum(db, FLOOR_DB).T.astype(np.float32)


def from_decibels(db) -> Tensor:
    """What a model reads, from :func:`decibels`: ``dB / 40 + 1``, as float32."""
    return torch.as_tensor(np.asarray(db, dtype=np.float32) / 40.0 + 1.0)


def features(audio, sample_rate: int | None = None) -> Tensor:
    """The log-mel frames a model reads, ``(frames, 32)`` float32, one every 16 ms.

    ``audio``: a WAV file's path or bytes, or samples (NumPy array or tensor) at ``sample_rate``; any rate is
    resampled to 8 kHz and stereo becomes mono (:func:`read_audio`, which also says what is wrong with a file).

    >>> tone = np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)
    >>> features(tone, 8000).shape
    torch.Size([63, 32])
    """
    return from_decibels(decibels(read_audio(audio, sample_rate)))


def mel_frequencies() -> np.ndarray:
    """The centre frequency in Hz of each of the ``N_MELS`` bands."""
    import librosa

    return librosa.mel_frequencies(n_mels=N_MELS + 2, fmax=RATE / 2)[1:-1]


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit PCM WAV bytes of float samples in [-1, 1] (for an audio player)."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(samples, -1, 1), rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def warm_up() -> str:
    """Compute the features of a second of noise once: librosa compiles its numba code on its first use (about 30 s
    on a fresh install, cached after), which ``grutools build`` does now rather than a student's first dashboard."""
    import time

    started = time.perf_counter()
    features(np.random.default_rng(0).uniform(-0.5, 0.5, RATE).astype(np.float32), RATE)
    return f"audio features ready (librosa, {time.perf_counter() - started:.1f} s)."
