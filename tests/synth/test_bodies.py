"""Random bodies and skin tones."""

from __future__ import annotations

import numpy as np

from humanvid.synth.bodies import SKIN_PALETTE, sample_body


def test_bodies_are_varied_adults_and_deterministic():
    bodies = [sample_body(np.random.default_rng(seed)) for seed in range(300)]
    phenotypes = np.array([b.phenotype for b in bodies])
    assert np.all((phenotypes >= 0.0) & (phenotypes <= 1.0))
    gender, age = phenotypes[:, 0], phenotypes[:, 1]
    assert np.mean(gender < 0.3) > 0.3 and np.mean(gender > 0.7) > 0.3
    assert np.mean(age >= 0.62) > 0.8 and age.min() >= 0.5  # adults, a few teenagers, no children
    assert phenotypes[:, 2:].std(axis=0).min() > 0.1  # muscle, weight, height, proportions vary
    assert sample_body(np.random.default_rng(7)) == sample_body(np.random.default_rng(7))


def test_skin_tones_span_light_to_dark():
    skin = np.array([sample_body(np.random.default_rng(seed)).skin_color for seed in range(300)])
    brightness = skin.mean(axis=1)
    assert brightness.min() < SKIN_PALETTE[-2].mean() and brightness.max() > SKIN_PALETTE[1].mean()
    assert np.all(skin[:, 0] >= skin[:, 2])  # skin is warm: more red than blue
