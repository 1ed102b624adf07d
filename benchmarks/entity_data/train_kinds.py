"""Train the entity-kind scorer (``searchlib/kind_weights.json``) on the BBC News *dev* half.

For every entity the rules extract from a dev-half article (``entities.rule_entities``), the
label is the kind spaCy ``en_core_web_sm`` gave that name in that article (the cached silver
labels, ``bbc/silver.jsonl.gz``); names spaCy did not tag, or tagged as something else, are
left out. The features are ``_kinds.name_features`` plus the article's contexts for the name.
The model is a multinomial logistic regression with an L2 penalty, fitted by full-batch Adam in
numpy; the penalty is chosen on a held-out fifth of the dev half (by article hash), then the
model is refitted on the whole dev half. The test half is never read.

    python benchmarks/entity_data/train_kinds.py        # ~1 minute; rewrites searchlib/kind_weights.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.bbc import bbc_articles
from benchmarks.bench_entities import load_silver, norm
from searchlib import _kinds
from searchlib.entities import rule_entities

OUT = Path(__file__).resolve().parents[2] / "searchlib" / _kinds.WEIGHTS_FILE
CLASSES = [k.value for k in _kinds.KINDS]
MIN_COUNT = 2  # a feature seen in fewer dev examples gets no weight


def examples() -> list[tuple[str, list[str], int]]:
    """(article id, features, class index) for each rule-extracted entity that spaCy typed."""
    silver = load_silver()
    rows = []
    for article in bbc_articles():
        if article.half != "dev":
            continue
        labels = {norm(n): g.kind for g in silver[article.id] for n in g.names}
        for entity, words, context in rule_entities(article.text):
            label = labels.get(norm(entity.name))
            if label in CLASSES:
                feats = _kinds.name_features(words, entity.kind) + sorted(context)
                rows.append((article.id, feats, CLASSES.index(label)))
    return rows


def fit(x: list[list[int]], y: np.ndarray, n_feats: int, l2: float, steps: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression on sparse binary rows ``x`` (feature indices); returns (bias, weights)."""
    lengths = np.array([len(r) for r in x])
    flat = np.concatenate([np.array(r, dtype=np.int64) for r in x])
    row_of = np.repeat(np.arange(len(x)), lengths)
    w = np.zeros((n_feats, 3))
    b = np.zeros(3)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros(3), np.zeros(3)
    onehot = np.eye(3)[y]
    rate, beta1, beta2 = 0.1, 0.9, 0.999
    for step in range(1, steps + 1):
        scores = b + np.add.reduceat(w[flat], np.r_[0, np.cumsum(lengths)[:-1]])
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        err = (p - onehot) / len(x)
        gw = np.zeros_like(w)
        np.add.at(gw, flat, err[row_of])
        gw += l2 * w
        gb = err.sum(axis=0)
        for g, m, v, param in ((gw, mw, vw, w), (gb, mb, vb, b)):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            param -= rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
    return b, w


def accuracy(x: list[list[int]], y: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    pred = [int(np.argmax(b + w[r].sum(axis=0))) for r in x]
    return float(np.mean(np.array(pred) == y))


def main() -> int:
    rows = examples()
    counts = Counter(f for _, feats, _ in rows for f in set(feats))
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= MIN_COUNT))}
    x = [[vocab[f] for f in dict.fromkeys(feats) if f in vocab] for _, feats, _ in rows]
    y = np.array([label for _, _, label in rows])
    held = np.array([hashlib.sha256(doc.encode()).digest()[1] % 5 == 0 for doc, _, _ in rows])
    print(f"{len(rows)} dev examples, {len(vocab)} features; classes {dict(Counter(y.tolist()))}")
    rules = np.array(
        [
            CLASSES.index(f.split("=", 1)[1]) if f.split("=", 1)[1] in CLASSES else -1
            for feats in (r[1] for r in rows)
            for f in feats[:1]
        ]
    )
    print(f"rules' kinds agree with spaCy on {np.mean(rules == y):.3f} of dev examples")
    best = None
    for l2 in (1e-5, 3e-5, 1e-4, 3e-4, 1e-3):
        train = [r for r, h in zip(x, held, strict=True) if not h]
        test = [r for r, h in zip(x, held, strict=True) if h]
        b, w = fit(train, y[~held], len(vocab), l2)
        acc = accuracy(test, y[held], b, w)
        print(f"l2={l2:g}: held-out fifth of dev accuracy {acc:.3f}")
        if best is None or acc > best[0]:
            best = (acc, l2)
    assert best is not None
    b, w = fit(x, y, len(vocab), best[1])
    print(f"chosen l2={best[1]:g}; accuracy on all of dev (fitted) {accuracy(x, y, b, w):.3f}")
    weights = {f: [round(float(v), 3) for v in w[i]] for f, i in vocab.items() if np.abs(w[i]).max() >= 0.01}
    blob = {
        "about": "entity-kind scorer for searchlib._kinds; trained by benchmarks/entity_data/train_kinds.py "
        "on spaCy en_core_web_sm labels of the BBC News dev half",
        "classes": CLASSES,
        "l2": best[1],
        "examples": len(rows),
        "bias": [round(float(v), 3) for v in b],
        "weights": dict(sorted(weights.items())),
    }
    OUT.write_text(json.dumps(blob, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(weights)} weights, {OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
