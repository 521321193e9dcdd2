"""Every view's picture at its default state, as PNG files, and a pixel comparison of two sets.

    python tools/view_screenshots.py shoot OUTDIR [--checkout DIR]
    python tools/view_screenshots.py compare BEFORE_DIR AFTER_DIR

``shoot`` builds each view of ``cnnlib.widgets.VIEWS`` with no arguments and writes the PNG it
shows a learner (``view.image.value``) to ``OUTDIR/<View>.png``, importing cnnlib from
``--checkout`` (default: this repository); an old commit can be shot from an export of it
(``git archive COMMIT | tar -x -C DIR``). ``compare`` prints, per view, whether the two
pictures are identical pixel for pixel, and otherwise how many pixels differ and by how much,
and writes ``AFTER_DIR/<View>.diff.png`` (the differing pixels in red).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SHOOT = """
import os, sys
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import cnnlib.widgets as w
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
print("cnnlib from", os.path.dirname(w.__file__), file=sys.stderr)
for name in w.VIEWS:
    view = getattr(w, name)()
    (out / f"{name}.png").write_bytes(view.image.value)
    print(name)
"""


def shoot(out: Path, checkout: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(checkout), "MPLBACKEND": "Agg"}
    subprocess.run(
        [sys.executable, "-c", SHOOT, str(out.resolve())], check=True, env=env, cwd=checkout
    )


def compare(before: Path, after: Path) -> int:
    """Print one line per view; return how many views differ."""
    import numpy as np
    from PIL import Image

    differ = 0
    for old in sorted(before.glob("*.png")):
        if old.name.endswith(".diff.png"):
            continue
        new = after / old.name
        if not new.exists():
            print(f"{old.stem:<24} missing in {after}")
            differ += 1
            continue
        a = np.asarray(Image.open(old).convert("RGBA"), dtype=np.int16)
        b = np.asarray(Image.open(new).convert("RGBA"), dtype=np.int16)
        if a.shape != b.shape:
            print(f"{old.stem:<24} size {a.shape[1]}x{a.shape[0]} -> {b.shape[1]}x{b.shape[0]}")
            differ += 1
            continue
        delta = np.abs(a - b).max(axis=-1)
        n = int((delta > 0).sum())
        if n == 0:
            print(f"{old.stem:<24} identical ({a.shape[1]}x{a.shape[0]})")
            continue
        differ += 1
        ys, xs = np.nonzero(delta)
        print(
            f"{old.stem:<24} {n} of {delta.size} pixels differ (largest channel difference "
            f"{int(delta.max())}), within x {xs.min()}..{xs.max()}, y {ys.min()}..{ys.max()}"
        )
        diff = (b[..., :3] // 3 + 160).clip(0, 255).astype(np.uint8)
        diff[delta > 0] = (255, 0, 0)
        Image.fromarray(diff).save(after / f"{old.stem}.diff.png")
    return differ


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("shoot")
    s.add_argument("out", type=Path)
    s.add_argument("--checkout", type=Path, default=REPO)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "shoot":
        shoot(args.out, args.checkout.resolve())
        return 0
    return 1 if compare(args.before, args.after) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
