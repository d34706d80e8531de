"""Temporal smoothing: noise goes down, motion is followed without lag, gaps are bridged."""

from __future__ import annotations

import numpy as np

from preprocessing.smoothing import (OneEuroFilter, box_settled, box_support, fill_gaps, one_euro_zero_phase,
                                     second_difference_std, smooth_boxes)


def test_one_euro_reduces_jitter_at_rest():
    rng = np.random.default_rng(0)
    noisy = 5.0 + 0.05 * rng.standard_normal((300, 2))
    smooth = one_euro_zero_phase(noisy, rate=30.0, min_cutoff=1.0, beta=0.0)
    assert np.std(smooth[20:-20]) < 0.3 * np.std(noisy)


def test_zero_phase_has_no_lag_on_a_ramp_but_causal_does():
    ramp = np.linspace(0.0, 10.0, 200)[:, None]
    causal = OneEuroFilter(rate=30.0, min_cutoff=0.5, beta=0.0)
    behind = np.stack([causal(x) for x in ramp])
    both = one_euro_zero_phase(ramp, rate=30.0, min_cutoff=0.5, beta=0.0)
    middle = slice(60, 140)
    assert np.mean(ramp[middle] - behind[middle]) > 0.1  # a causal filter lags
    assert np.max(np.abs(ramp[middle] - both[middle])) < 0.02


def test_fill_gaps_interpolates_linearly():
    track = np.array([[0.0], [np.nan], [np.nan], [3.0]])
    filled = fill_gaps(track, np.array([True, False, False, True]))
    assert filled[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_boxes_are_smooth_and_keep_the_person_inside():
    rng = np.random.default_rng(1)
    t = np.arange(120)
    center_x = 300 + 100 * np.sin(t / 20.0) + 4 * rng.standard_normal(len(t))
    height = 200 + 8 * rng.standard_normal(len(t))
    height[50:55] += 60  # an arm raised quickly
    extents = np.stack([center_x - 40, 100 - height / 2, center_x + 40, 100 + height / 2], axis=1)
    valid = np.ones(len(t), bool)
    valid[[10, 11, 70]] = False
    centers, sides = smooth_boxes(extents, valid, rate=30.0)
    raw_centers = 0.5 * (extents[:, :2] + extents[:, 2:])
    assert second_difference_std(centers) < 0.25 * second_difference_std(raw_centers)
    inside = (np.abs(extents - np.tile(centers, 2)) <= sides[:, None] / 2 + 1e-6).all(axis=1)
    assert inside[valid].mean() > 0.97
    assert np.all(height / sides < 0.9)  # about 80 % of the crop, never crammed


def test_settled_boxes_equal_those_of_the_whole_track():
    """Crops cut while detection goes on must be exactly those of a pass over the finished track."""
    rng = np.random.default_rng(2)
    frames, rate = 240, 29.8
    extents = np.cumsum(rng.normal(0, 3, (frames, 4)), axis=0) + np.array([100, 100, 300, 500])
    valid = rng.random(frames) > 0.05
    valid[:3] = False
    valid[100:130] = False  # a long gap
    extents[~valid] = np.nan
    support = box_support(rate)
    centers, sides = smooth_boxes(extents, valid, rate)
    settled = 0
    for known in range(1, frames + 1, 7):
        for frame in range(known):
            start = box_settled(valid[:known], frame, support)
            if start is None:
                continue
            settled += 1
            part_centers, part_sides = smooth_boxes(extents[start:known], valid[start:known], rate)
            assert np.array_equal(part_centers[frame - start], centers[frame])
            assert part_sides[frame - start] == sides[frame]
    assert settled > 1000
    # a frame next to a gap whose end is unknown is not settled yet
    assert box_settled(valid[:129], 100 - support // 2, support) is None
