"""`chainrule doctor RUN_DIR`: the findings on a run trained with `--instruments N`, each
with its evidence, a small plot, and one change to try. `--demo FAULT` first trains the
digits network with that fault planted (see doctor_faults.py)."""
from __future__ import annotations

import json
import os

from . import doctor

PLOTS_FOLDER = "doctor"


def add_parser(commands) -> None:
    from .doctor_faults import FAULTS
    command = commands.add_parser("doctor", help="why a run is not learning, and what to "
                                  "change (train it with --instruments N first)")
    command.add_argument("run_dir", nargs="?", help="a run folder (with instruments.json)")
    command.add_argument("--plots", metavar="DIR", help="where to draw each finding's "
                         "picture (default RUN_DIR/doctor; 'none' draws nothing)")
    command.add_argument("--demo", choices=sorted(FAULTS), metavar="FAULT",
                         help="train the digits network with a planted fault into RUN_DIR "
                              "(default runs/doctor-FAULT), then diagnose it: "
                              + ", ".join(sorted(FAULTS)))
    command.epilog = """examples:
  chainrule train --instruments 10 && chainrule doctor runs/digits-mlp
  chainrule doctor --demo lr-x100"""
    command.set_defaults(func=run)


def run(args) -> int:
    run_dir = args.run_dir
    if args.demo:
        from .doctor_faults import planted_run
        from .instruments import INSTRUMENTS_FILE
        run_dir = run_dir or os.path.join("runs", f"doctor-{args.demo}")
        os.makedirs(run_dir, exist_ok=True)
        print(f"training the digits network with {args.demo} planted ...")
        with open(os.path.join(run_dir, INSTRUMENTS_FILE), "w", encoding="utf-8") as handle:
            json.dump(planted_run(args.demo), handle)
    if not run_dir:
        raise ValueError("doctor: give a run folder (trained with --instruments N), or "
                         "--demo FAULT")
    findings = doctor.diagnose(doctor.load(run_dir))
    print(doctor.summary(findings))
    folder = args.plots or os.path.join(run_dir, PLOTS_FOLDER)
    if findings and folder != "none":
        paths = draw_all(findings, folder)
        print(f"pictures of the evidence: {', '.join(paths)}")
    return 0


def draw_all(findings, folder: str) -> list:
    from .doctor_plots import draw
    return [draw(f, os.path.join(folder, f"{k}-{f.cause}.png"))
            for k, f in enumerate(findings, 1)]
