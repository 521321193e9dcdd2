"""No learner-facing text cites "the seed", the brief this course was written from.

Learners never see that document, so "the seed's formula", "the seed's ``SimpleCNN``" or a
preset called "SimpleCNN (seed)" point at nothing: every claim is the course's own, with the
primary source (paper, book) cited where one exists. Random seeds are a different word and
stay: ``seed=0``, ``torch.manual_seed``, "a fixed seed", "over seeds 0, 1 and 2".

The rule is an allow-list: every occurrence of the word (``seed``, ``seeds``, ``seed's``,
``seeded``) must sit in one of the random-seed contexts below, or the test names the file,
the cell and the line. Scanned: every notebook (all cells, their outputs and the saved widget
state: dropdown labels), the README, and every ``cnnlib`` source file (docstrings, labels,
presets, checker messages, comments).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WORD = re.compile(r"\bseed(?:s|'s|ed|ing)?\b", re.IGNORECASE)

#: contexts in which "seed" means a random seed (tested against the text around the word)
RANDOM_SEED = [
    # code: a keyword, a parameter, an argument, an annotation, a name in backticks
    r"seed\s*(?:=|\+|:\s*int\b|\s+not\s+in\b)",
    r"(?:\w\(|\[|\{|,\s*|=\s*|\+\s*|\*\s*)seed\b",
    r"(?m)^\s*seed\s*:\s*$",  # a numpydoc parameter entry
    r"manual_seed|initial_seed|seedsequence",
    r"`seed`|``seed``|\"seed\"|'seed'",
    # prose: what random seeds are called
    r"\bseed(?:ed|s|ing)\b",
    r"\b(?:same|fixed|random|a|one|each|another|different|its|torch's|new|whole)\s+seed\b",
    r"\bseed\s+\d",
    r"\bseed\s+(?:of|torch)\b",
    r"\b(?:choice|value) of seed\b",
]
_ALLOWED = [re.compile(p, re.IGNORECASE) for p in RANDOM_SEED]


def offending(text: str) -> list[str]:
    """The lines of ``text`` that use "seed" other than as a random seed."""
    bad = []
    for m in WORD.finditer(text):
        if m.group(0).lower() == "seed's":  # a random seed has no possessive
            ok = False
        else:
            window = text[max(0, m.start() - 24) : m.end() + 24]
            at = m.start() - max(0, m.start() - 24)
            ok = any(
                a.start() <= at < a.end() or at <= a.start() < at + len(m.group(0))
                for p in _ALLOWED
                for a in p.finditer(window)
            )
        if not ok:
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            bad.append(text[start : end if end >= 0 else len(text)].strip()[:200])
    return bad


def _notebook_texts(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    texts = []
    for i, cell in enumerate(nb["cells"]):
        texts.append((f"cell {i}", "".join(cell["source"])))
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append((f"cell {i} output", "".join(out["text"])))
            for mime in ("text/plain", "text/markdown", "text/html"):
                data = out.get("data", {}).get(mime)
                if data:
                    texts.append((f"cell {i} output", "".join(data)))
    texts += [("saved widget state", t) for t in _strings(nb.get("metadata", {}).get("widgets"))]
    return texts


def _strings(value: object) -> list[str]:
    """Every string inside a JSON value (the saved widgets' labels, options and readouts)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != "buffers" for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def learner_facing() -> list[tuple[str, str]]:
    """``(where, text)`` of every learner-facing text of the course."""
    texts = [("README.md", (ROOT / "README.md").read_text(encoding="utf-8"))]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        texts += [(f"{path.name} {where}", t) for where, t in _notebook_texts(path)]
    for path in sorted((ROOT / "cnnlib").rglob("*.py")):
        texts.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return texts


def test_the_sources_were_found():
    names = {where.split()[0] for where, _ in learner_facing()}
    assert "README.md" in names and "cnnlib/widgets/receptive_field.py" in names
    assert len([n for n in names if n.endswith(".ipynb")]) >= 9


def test_no_learner_facing_text_cites_the_seed():
    found = [f"{where}: {line}" for where, text in learner_facing() for line in offending(text)]
    assert not found, (
        "learner-facing text cites the brief ('the seed'), which no learner has; state the "
        "claim as the course's own and cite the paper or book:\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "text",
    [
        "This is the seed's formula: $k + (k - 1)(d - 1) = d(k - 1) + 1$.",
        "The seed credits max pooling with translation invariance.",
        'ReceptiveFieldExplorer(preset="SimpleCNN (seed)", photo=True)',
        'label="seed: $k^2 C_{out}/(k^2 + C_{out})$"',
        "(The seed writes $RF_l$; the course writes $r_l$)",
        "#: The course's SimpleCNN.features (seed text): 4 ConvBlocks",
        "    seed = k**2 * c_out / (k**2 + c_out)  # ... the seed's ratio",
        "as the seed says, two 3x3 convolutions see as far as one 5x5",
        "Seed: the brief's example",
    ],
)
def test_the_rule_catches_citations_of_the_brief(text):
    assert offending(text), text


@pytest.mark.parametrize(
    "text",
    [
        "torch.manual_seed(0)",
        "def train(model, x, y, seed: int = 0) -> None:",
        "with deterministic(seed):",
        "rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])",
        "training is deterministic (fixed seed, deterministic kernels, one thread)",
        "Over seeds 0, 1 and 2 it loses 0.8 points, about as much as the choice of seed.",
        "with the same training (seed 0)",
        "the same ``seed`` gives the same weights; change `seed` and rerun",
        "a seeded permutation puts each class in order",
        "Seed of the output gradient ``dL/dy``",
    ],
)
def test_the_rule_allows_random_seeds(text):
    assert offending(text) == [], text
