"""User data: idx:<dir>, csv:<file>, text:<file>, images:<dir>."""
import numpy as np
import pytest

from chainrule.data import DataError, load_dataset, write_idx

from .conftest import need_modules


def _write_mnist_style(folder, n_train=50, n_test=20, with_test=True):
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (n_train, 6, 5), np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(n_train, dtype=np.uint8) % 3)
    if with_test:
        write_idx(folder / "t10k-images-idx3-ubyte", rng.integers(0, 256, (n_test, 6, 5), np.uint8))
        write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(n_test, dtype=np.uint8) % 3)
    return folder


def test_idx_folder_with_official_test(tmp_path):
    s = load_dataset(f"idx:{_write_mnist_style(tmp_path / 'd')}")
    assert s.kind == "image" and s.image_shape == (1, 6, 5) and s.classes == ["0", "1", "2"]
    assert len(s.test[0]) == 20 and len(s.train[0]) + len(s.val[0]) == 50
    assert s.train[0].dtype == np.uint8 and s.train[1].dtype == np.int64


def test_idx_folder_without_test_is_split_70_10_20(tmp_path):
    s = load_dataset(f"idx:{_write_mnist_style(tmp_path / 'd', n_train=60, with_test=False)}")
    assert (len(s.train[0]), len(s.val[0]), len(s.test[0])) == (42, 6, 12)


def test_idx_folder_label_count_mismatch(tmp_path):
    folder = _write_mnist_style(tmp_path / "d", with_test=False)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(49, np.uint8))
    with pytest.raises(DataError, match="49 labels"):
        load_dataset(f"idx:{folder}")


def test_idx_folder_with_bad_header(tmp_path):
    folder = _write_mnist_style(tmp_path / "d", with_test=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x01\x02\x03\x04garbage")
    with pytest.raises(DataError, match="bad IDX header"):
        load_dataset(f"idx:{folder}")


def test_csv_with_header_and_label_column(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i},{i % 2},{i * 0.5}" for i in range(40)]
    path.write_text("a,label,b\n" + "\n".join(rows) + "\n")
    s = load_dataset(f"csv:{path}")
    assert s.kind == "signal" and s.classes == ["0", "1"]
    X = np.concatenate([s.train[0], s.val[0], s.test[0]])
    y = np.concatenate([s.train[1], s.val[1], s.test[1]])
    assert X.shape == (40, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[:, 0] % 2, y)  # the label column was taken out
    np.testing.assert_array_equal(X[:, 1], X[:, 0] * 0.5)


def test_csv_without_header_uses_last_column_and_sorts_numeric_labels(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\n".join(f"{i},{[2, 10, 7][i % 3]}" for i in range(30)))
    s = load_dataset(f"csv:{path}")
    assert s.classes == ["2", "7", "10"]
    assert np.bincount(np.concatenate([s.train[1], s.val[1], s.test[1]])).tolist() == [10, 10, 10]


def test_csv_string_labels(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(f"{i}\t{i + 1}\t{'cat' if i % 2 else 'bird'}" for i in range(20)))
    assert load_dataset(f"csv:{path}").classes == ["bird", "cat"]


@pytest.mark.parametrize("body, line, words", [
    ("1,2,0\n3,4,1\n5,6\n", 3, "expected 3 columns, got 2"),
    ("1,2,0\n3,x,1\n", 2, "'x' is not a number"),
    ("f1,f2,label\n1,2,0\n\n1,2,3,4\n", 4, "expected 3 columns, got 4"),
])
def test_csv_malformed_row_names_file_and_line(tmp_path, body, line, words):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(DataError, match=words) as info:
        load_dataset(f"csv:{path}")
    assert f"{path}:{line}:" in str(info.value)


@pytest.mark.parametrize("prefix, body", [("csv", ""), ("csv", "\n\n"), ("csv", "a,label\n"),
                                          ("text", ""), ("text", "text,label\n")])
def test_empty_files(tmp_path, prefix, body):
    path = tmp_path / "empty.csv"
    path.write_text(body)
    with pytest.raises(DataError, match="empty"):
        load_dataset(f"{prefix}:{path}")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}")


def test_text_with_header_and_string_labels(tmp_path):
    path = tmp_path / "t.csv"
    lines = [f'"great, film {i}",pos' if i % 2 else f"dull film {i},neg" for i in range(30)]
    path.write_text("text,label\n" + "\n".join(lines) + "\n")
    s = load_dataset(f"text:{path}")
    assert s.kind == "text" and s.classes == ["neg", "pos"]
    texts = np.concatenate([s.train[0], s.val[0], s.test[0]])
    labels = np.concatenate([s.train[1], s.val[1], s.test[1]])
    assert texts.dtype == object and len(texts) == 30
    assert all(("great, film" in t) == (label == 1) for t, label in zip(texts, labels, strict=True))


def test_text_tsv_without_header(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("".join(f"sentence {i}\t{i % 3}\n" for i in range(30)))
    s = load_dataset(f"text:{path}")
    assert s.classes == ["0", "1", "2"] and sum(len(p[0]) for p in (s.train, s.val, s.test)) == 30


def test_text_malformed_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\nfine,1\nno label here\n")
    with pytest.raises(DataError, match=rf"{path}:3: expected 2 columns"):
        load_dataset(f"text:{path}")


def _save_images(folder, mode, size, counts):
    from PIL import Image

    rng = np.random.default_rng(0)
    channels = {"L": (), "RGB": (3,)}[mode]
    for name, n in counts.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (size[1], size[0], *channels), dtype=np.uint8)
            Image.fromarray(pixels, mode).save(folder / name / f"{i}.png")


@pytest.mark.parametrize("mode, channels", [("L", 1), ("RGB", 3)])
def test_image_folder(tmp_path, mode, channels):
    need_modules("PIL", "pip install pillow")
    _save_images(tmp_path, mode, (5, 4), {"cat": 10, "dog": 20})
    s = load_dataset(f"images:{tmp_path}")
    assert s.kind == "image" and s.classes == ["cat", "dog"] and s.pixel_max == 255
    assert s.image_shape == (channels, 4, 5) and s.train[0].shape[1:] == (channels, 4, 5)
    assert s.train[0].dtype == np.uint8
    assert sum(len(p[0]) for p in (s.train, s.val, s.test)) == 30


def test_image_folder_pixels_match_the_file(tmp_path):
    need_modules("PIL", "pip install pillow")
    from PIL import Image

    (tmp_path / "only").mkdir()
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)  # (H, W, RGB)
    Image.fromarray(pixels, "RGB").save(tmp_path / "only" / "a.png")
    from chainrule.data.datasets import image_folder

    X, _ = image_folder.load(tmp_path).train
    np.testing.assert_array_equal(X[0], pixels.transpose(2, 0, 1))


def test_mixed_gray_and_colour_become_rgb(tmp_path):
    need_modules("PIL", "pip install pillow")
    _save_images(tmp_path, "L", (3, 3), {"a": 10})
    _save_images(tmp_path, "RGB", (3, 3), {"b": 10})
    assert load_dataset(f"images:{tmp_path}").image_shape == (3, 3, 3)


def test_image_of_the_wrong_size(tmp_path):
    need_modules("PIL", "pip install pillow")
    _save_images(tmp_path, "L", (5, 4), {"a": 3})
    _save_images(tmp_path / "b_odd", "L", (6, 4), {"x": 1})
    (tmp_path / "b_odd" / "x" / "0.png").rename(tmp_path / "a" / "odd.png")
    with pytest.raises(DataError, match=r"odd.png: image is 6x4 \(width x height\), expected 5x4"):
        load_dataset(f"images:{tmp_path}")


def test_image_folder_without_classes(tmp_path):
    with pytest.raises(DataError, match="no class folders"):
        load_dataset(f"images:{tmp_path}")
