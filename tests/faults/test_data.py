"""Data under attack: a value that cannot be trained on is refused when loaded, naming the
file and the row; a damaged file is one line naming it; nothing trains on a NaN."""
from __future__ import annotations

import gzip
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from chainrule.data import write_idx

from .conftest import separable_rows, write_csv


def refused(chainrule, tmp_path, data: str) -> str:
    """The one line `train --data DATA` fails with; nothing is trained or saved."""
    line = chainrule.error("train", "--data", data, "--epochs", "1", "--out", tmp_path / "run")
    assert not (tmp_path / "run" / "model.safetensors").exists()
    return line


# --- CSV tables --------------------------------------------------------------------------
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e39", "-3.5e38", "1e400"]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("column", [0, 1])
def test_a_non_finite_csv_value_is_refused_naming_file_and_row(chainrule, tmp_path, value,
                                                               column):
    rows = separable_rows(20)
    fields = rows[7].split(",")
    fields[column] = value
    rows[7] = ",".join(fields)
    data = write_csv(tmp_path / "t.csv", rows)
    assert refused(chainrule, tmp_path, data) == (
        f"{tmp_path / 't.csv'}:9: {value!r} is not a finite float32 number (NaN, infinity or "
        "beyond ±3.4e38); 1 rows hold such values")


CSV_FAULTS = [
    ("one-class", "a,b,label\n1,2,x\n3,4,x\n5,6,x\n",
     "the data has examples of only one class (x); a classifier needs examples of at least two"),
    ("header-only", "a,b,label\n", "{path}: file is empty (a header and no rows)"),
    ("empty", "", "{path}: file is empty"),
    ("blank-lines", "\n\n  \n", "{path}: file is empty"),
    ("ragged", "a,b,label\n1,2,x\n3,y\n", "{path}:3: expected 3 columns, got 2"),
    ("word", "a,b,label\n1,2,x\n3,four,y\n", "{path}:3: 'four' is not a number"),
    ("empty-label", "a,b,label\n1,2,x\n3,4, \n", "{path}:3: empty label"),
    ("one-column", "label\nx\ny\n", "{path}: need at least one feature column and a label column"),
    ("bad-utf8", "a,b,label\n1,2,x\n3,4,\xff\n", None),
]


@pytest.mark.parametrize("content,message", [c[1:] for c in CSV_FAULTS],
                         ids=[c[0] for c in CSV_FAULTS])
def test_a_faulty_csv_is_one_line(chainrule, tmp_path, content, message):
    path = tmp_path / "t.csv"
    if message is None:  # bytes that are not UTF-8
        path.write_bytes(content.encode("latin-1"))
        message = "{path}:3: not UTF-8 text (byte 0xff at offset 20)"
    else:
        path.write_text(content)
    assert refused(chainrule, tmp_path, f"csv:{path}") == message.format(path=path)


def test_too_few_examples_to_split_is_one_line(chainrule, tmp_path):
    data = write_csv(tmp_path / "t.csv", ["1,2,x", "2,3,x", "3,1,y", "4,1,y", "5,5,x", "0,1,y"])
    assert refused(chainrule, tmp_path, data) == (
        "6 examples are too few to split into training, validation and test sets (the "
        "validation set would be empty); give at least 10 examples of each class")


def test_a_missing_csv_is_one_line(chainrule, tmp_path):
    assert refused(chainrule, tmp_path, f"csv:{tmp_path / 'none.csv'}") == \
        f"{tmp_path / 'none.csv'}: no such file"


TEXT_FAULTS = [
    ("one-class", "text,label\ngood film,pos\nfine,pos\n",
     "the data has examples of only one class (pos); a classifier needs examples of at least two"),
    ("empty-label", "text,label\ngood,pos\nbad,\n", "{path}:3: empty label"),
    ("columns", "good,pos,extra\n", "{path}:1: expected 2 columns (text, label), got 3"),
]


@pytest.mark.parametrize("content,message", [c[1:] for c in TEXT_FAULTS],
                         ids=[c[0] for c in TEXT_FAULTS])
def test_a_faulty_text_table_is_one_line(chainrule, tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    line = chainrule.error("train", "--data", f"text:{path}", "--model", "bow-mlp",
                           "--epochs", "1", "--out", tmp_path / "run")
    assert line == message.format(path=path)


# --- IDX folders -------------------------------------------------------------------------
def idx_folder(tmp_path, images=None, labels=None, gz=False):
    """An MNIST-style folder (30 images of 4x4, 3 classes) with the given arrays."""
    folder = tmp_path / "idx"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 4, 4), np.uint8) if images is None else images
    labels = (np.arange(30) % 3).astype(np.uint8) if labels is None else labels
    for name, array in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)):
        write_idx(folder / name, array)
        if gz:
            raw = (folder / name).read_bytes()
            (folder / name).unlink()
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
    return folder


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_an_idx_image_with_a_non_finite_pixel_is_refused(chainrule, tmp_path, value):
    images = np.ones((30, 4, 4), np.float32)
    images[12, 2, 3] = value
    folder = idx_folder(tmp_path, images=images)
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{folder / 'train-images-idx3-ubyte'}: example 12 holds {value}; NaN and infinite "
        "values cannot be trained on (1 examples hold them)")


def test_idx_signals_with_nan_are_refused(chainrule, tmp_path):
    signals = np.ones((30, 5), np.float64)
    signals[[3, 4], 0] = np.nan
    folder = idx_folder(tmp_path, images=signals)
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{folder / 'train-images-idx3-ubyte'}: example 3 holds nan; NaN and infinite values "
        "cannot be trained on (2 examples hold them)")


@pytest.mark.parametrize("labels,message", [
    (np.array([0, 1, -1] * 10, np.int8), "label -1 of example 2 is not a class number"),
    (np.array([0, 1, 2.5] * 10, np.float32), "label 2.5 of example 2 is not a class number"),
    (np.array([0, 1, -7] * 10, np.int32), "label -7 of example 2 is not a class number"),
], ids=["int8-minus-one", "fractional", "int32-negative"])
def test_idx_labels_that_are_not_class_numbers_are_refused(chainrule, tmp_path, labels, message):
    folder = idx_folder(tmp_path, labels=labels)
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{folder / 'train-labels-idx1-ubyte'}: {message} (0, 1, 2, ...)")


@pytest.mark.parametrize("labels,shape", [(np.zeros((30, 1), np.uint8), "(30, 1)"),
                                          (np.zeros(29, np.uint8), "(29,)"),
                                          (np.array(3, np.uint8), "()")],
                         ids=["2-d", "too-few", "0-d"])
def test_idx_labels_of_the_wrong_shape_are_refused(chainrule, tmp_path, labels, shape):
    folder = idx_folder(tmp_path, labels=labels)
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{folder / 'train-labels-idx1-ubyte'}: {labels.size} labels of shape {shape} for the "
        "30 examples in train-images-idx3-ubyte; expected shape (30,)")


def test_idx_with_no_examples_is_refused(chainrule, tmp_path):
    folder = idx_folder(tmp_path, images=np.zeros((0, 4, 4), np.uint8),
                        labels=np.zeros(0, np.uint8))
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{folder / 'train-images-idx3-ubyte'}: no examples (shape (0, 4, 4))")


def test_idx_of_one_class_is_refused(chainrule, tmp_path):
    folder = idx_folder(tmp_path, labels=np.zeros(30, np.uint8))
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        "the data has examples of only one class (0); a classifier needs examples of at least "
        "two")


def test_a_truncated_gz_idx_is_one_line(chainrule, tmp_path):
    folder = idx_folder(tmp_path, gz=True)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{path}: damaged gzip file (Compressed file ended before the end-of-stream marker was "
        "reached)")


def test_a_gz_idx_failing_its_crc_names_the_file(chainrule, tmp_path):
    folder = idx_folder(tmp_path, gz=True)
    path = folder / "train-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF  # the CRC-32 of the content
    path.write_bytes(bytes(raw))
    assert refused(chainrule, tmp_path, f"idx:{folder}") == (
        f"{path}: damaged gzip file (CRC check failed)")


@pytest.mark.parametrize("header,message", [
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 30, 4, 4) + b"\x00" * 10,
     "bad IDX header: shape (30, 4, 4) needs 480 bytes of data, file has 10"),
    (b"\x01\x02\x08\x01", "bad IDX header 01 02 08 01; expected 00 00, a type byte (08 for "
                          "uint8) and the number of dimensions"),
    (b"\x00\x00\x08\x03\x00", "bad IDX header: file ends inside the 3 dimension sizes"),
    (b"", "bad IDX header (empty); expected 00 00, a type byte (08 for uint8) and the number "
          "of dimensions"),
], ids=["short-body", "magic", "short-dims", "empty"])
def test_a_bad_idx_header_is_one_line(chainrule, tmp_path, header, message):
    folder = idx_folder(tmp_path)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(header)
    assert refused(chainrule, tmp_path, f"idx:{folder}") == f"{path}: {message}"


# --- image folders -----------------------------------------------------------------------
def image_folder(tmp_path, classes=("a", "b"), size=(6, 6), n=4):
    folder = tmp_path / "images"
    for name in classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(np.full(size[::-1], 40 * i, np.uint8)).save(folder / name / f"{i}.png")
    return folder


def bomb_png(path, width=20000, height=20000):
    """A PNG whose header claims width x height pixels (its data is a few bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                        zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_in_an_image_folder_is_one_line(chainrule, tmp_path):
    folder = image_folder(tmp_path)
    bomb_png(folder / "a" / "0.png")
    assert refused(chainrule, tmp_path, f"images:{folder}") == (
        f"{folder / 'a' / '0.png'}: image too large to read safely (Image size (400000000 "
        "pixels) exceeds limit of 178956970 pixels, could be decompression bomb DOS attack.)")


def test_an_unreadable_image_is_one_line(chainrule, tmp_path):
    folder = image_folder(tmp_path)
    (folder / "b" / "2.png").write_bytes(b"\x89PNG not really")
    assert refused(chainrule, tmp_path, f"images:{folder}").startswith(
        f"{folder / 'b' / '2.png'}: unreadable image (")


def test_images_of_mixed_sizes_are_one_line(chainrule, tmp_path):
    folder = image_folder(tmp_path)
    Image.fromarray(np.zeros((7, 6), np.uint8)).save(folder / "b" / "1.png")
    assert refused(chainrule, tmp_path, f"images:{folder}") == (
        f"{folder / 'b' / '1.png'}: image is 6x7 (width x height), expected 6x6 like 0.png")


def test_an_image_folder_of_one_class_is_refused(chainrule, tmp_path):
    folder = image_folder(tmp_path, classes=("only",))
    assert refused(chainrule, tmp_path, f"images:{folder}") == (
        "the data has examples of only one class (only); a classifier needs examples of at "
        "least two")


def test_predicting_a_decompression_bomb_is_one_line(chainrule, tmp_path, digits_run):
    bomb_png(tmp_path / "bomb.png")
    assert chainrule.error("predict", digits_run / "model.safetensors", tmp_path / "bomb.png") \
        == (f"{tmp_path / 'bomb.png'}: image too large to read safely (Image size (400000000 "
            "pixels) exceeds limit of 178956970 pixels, could be decompression bomb DOS attack.)")


@pytest.mark.parametrize("name", ["nope", "csv:", "idx:/no/such/folder"])
def test_an_unknown_data_set_is_one_line(chainrule, tmp_path, name):
    line = refused(chainrule, tmp_path, name)
    assert line in (f"unknown data set '{name}'; known: digits, mnist, fashion-mnist, mnist1d, "
                    "movie-reviews, tweets, or user data as idx:<dir>, csv:<file>, text:<file>, "
                    "images:<dir>", f"data set '{name}' needs a path after 'csv:'",
                    "/no/such/folder: no such folder")
