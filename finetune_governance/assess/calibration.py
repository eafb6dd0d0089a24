"""Expected calibration error: how far confidence is from accuracy, as a pure function."""

from __future__ import annotations

from typing import Sequence


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], *, bins: int = 10) -> float:
    """Top-label ECE with ``bins`` equal-width bins over [0, 1].

    ``confidence`` is the probability the model gave its predicted class; ``correct`` whether
    that prediction was right. ECE = sum over bins of (bin size / N) * |accuracy - mean
    confidence| (a fraction in [0, 1]; 0 is perfectly calibrated). Bin b holds confidences
    in (b/bins, (b+1)/bins], the first bin also 0.
    """
    import numpy as np

    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    if conf.shape != hit.shape or conf.ndim != 1:
        raise ValueError("confidence and correct must be 1-D and of the same length")
    if len(conf) == 0:
        raise ValueError("no predictions to calibrate")
    which = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() / len(conf) * abs(hit[mask].mean() - conf[mask].mean())
    return float(total)
