import json

import numpy as np
import pytest

from chainrule.data import DataError, ImageEncoder, encoder_from_state_dict


def _images(n=20, c=3, seed=0, high=256):
    return np.random.default_rng(seed).integers(0, high, (n, c, 4, 5), dtype=np.uint8)


def test_scales_by_the_known_max_and_flattens():
    X = _images(high=17)
    out = ImageEncoder(pixel_max=16).transform(X)
    assert out.dtype == np.float32 and out.shape == (20, 3 * 4 * 5)
    np.testing.assert_allclose(out, X.reshape(20, -1) / 16.0, rtol=1e-6)


def test_keeps_channels_height_width_when_not_flattening():
    out = ImageEncoder(flatten=False)(_images())
    assert out.shape == (20, 3, 4, 5) and out.min() >= 0.0 and out.max() <= 1.0


def test_standardisation_uses_training_statistics_only():
    train, test = _images(seed=0), _images(seed=1, high=100)
    enc = ImageEncoder(standardize=True, flatten=False).fit(train)
    scaled = train / 255.0
    np.testing.assert_allclose(enc.mean, scaled.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(enc.std, scaled.std(axis=(0, 2, 3)), rtol=1e-5)
    out = enc.transform(test)  # the test set's own statistics must not be used
    expected = (test / 255.0 - scaled.mean(axis=(0, 2, 3))[None, :, None, None]) \
        / scaled.std(axis=(0, 2, 3))[None, :, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    train_out = enc.transform(train)
    np.testing.assert_allclose(train_out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_out.std(axis=(0, 2, 3)), 1.0, atol=1e-4)


def test_constant_channel_is_not_divided_by_zero():
    X = np.zeros((4, 1, 2, 2), np.uint8)
    enc = ImageEncoder(standardize=True)
    out = enc.fit_transform(X)
    assert np.isfinite(out).all() and enc.std == [1.0]


def test_flat_inputs_get_one_mean_and_std():
    X = np.arange(30, dtype=np.float32).reshape(3, 10)
    enc = ImageEncoder(pixel_max=1, standardize=True).fit(X)
    assert enc.mean == [pytest.approx(14.5)] and len(enc.std) == 1


def test_standardize_before_fit_is_an_error():
    with pytest.raises(DataError, match="fit"):
        ImageEncoder(standardize=True).transform(_images())


def test_state_dict_is_json_and_restores_the_same_encoder():
    train = _images()
    enc = ImageEncoder(pixel_max=255, standardize=True, flatten=False).fit(train)
    state = json.loads(json.dumps(enc.state_dict()))
    for restored in (ImageEncoder.from_state_dict(state), encoder_from_state_dict(state)):
        np.testing.assert_array_equal(restored.transform(train), enc.transform(train))
        assert restored.flatten is False


def test_from_state_dict_refuses_another_encoders_state():
    with pytest.raises(DataError, match="for Vocab, not ImageEncoder"):
        ImageEncoder.from_state_dict({"type": "Vocab", "tokens": ["<pad>", "<unk>"]})


def test_per_pixel_standardisation_uses_training_statistics_per_position():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (50, 1, 4, 4)).astype(np.uint8)
    train[:, 0, 0, 0] = 0  # an always-blank corner pixel
    encoder = ImageEncoder(standardize="pixel").fit(train)
    x = encoder.transform(train)
    scaled = train.reshape(50, -1) / 255.0
    expected = (scaled - scaled.mean(0)) / (scaled.std(0) + 0.1)
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-6)
    assert np.all(x[:, 0] == 0)  # the blank pixel stays 0 instead of exploding
    restored = ImageEncoder.from_state_dict(encoder.state_dict())
    np.testing.assert_array_equal(restored.transform(train), x)
