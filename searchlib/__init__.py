"""searchlib: a fast, reliable, searchable on-disk index of news articles.

>>> import searchlib
>>> with searchlib.Index.in_memory() as ix:
...     ix.add(searchlib.Article(date="2024-05-06", body="Hostage talks resumed in Cairo."))
...     ix.search("hostage talks").total
1
"""

from searchlib.aliases import AliasTable
from searchlib.archive import Archive, ArchiveWriter
from searchlib.check import CheckReport, check_index
from searchlib.entities import EntityExtractor, NoExtractor, RuleExtractor
from searchlib.errors import (
    ArchiveError,
    DocumentNotFoundError,
    IncompatibleIndexError,
    IndexClosedError,
    IndexExistsError,
    IndexLockedError,
    IndexNotFoundError,
    IndexProblem,
    IngestError,
    QuerySyntaxError,
    SearchlibError,
    StorageError,
)
from searchlib.highlight import HighlightOptions, best_snippets, highlight
from searchlib.index import Index, Ranking, Writer
from searchlib.ingest import IngestProblem, IngestProgress, IngestReport, read_articles
from searchlib.models import (
    Article,
    DateBucket,
    DuplicateGroup,
    Entity,
    EntityKind,
    FacetCount,
    Facets,
    Hit,
    IndexStats,
    Recency,
    RelatedEntity,
    Results,
    Snippet,
    Sort,
    Span,
    Timeline,
)
from searchlib.query import parse as parse_query
from searchlib.render import render_ansi, render_html, render_plain, render_sparkline
from searchlib.sample import sample_corpus_path
from searchlib.upgrade import UpgradeReport

__version__ = "0.1.0"

__all__ = [
    "AliasTable",
    "Archive",
    "ArchiveError",
    "ArchiveWriter",
    "Article",
    "CheckReport",
    "DateBucket",
    "DocumentNotFoundError",
    "DuplicateGroup",
    "Entity",
    "EntityExtractor",
    "EntityKind",
    "FacetCount",
    "Facets",
    "HighlightOptions",
    "Hit",
    "IncompatibleIndexError",
    "Index",
    "IndexClosedError",
    "IndexExistsError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexProblem",
    "IndexStats",
    "IngestError",
    "IngestProblem",
    "IngestProgress",
    "IngestReport",
    "NoExtractor",
    "QuerySyntaxError",
    "Ranking",
    "Recency",
    "RelatedEntity",
    "Results",
    "RuleExtractor",
    "SearchlibError",
    "Snippet",
    "Sort",
    "Span",
    "StorageError",
    "Timeline",
    "UpgradeReport",
    "Writer",
    "__version__",
    "best_snippets",
    "check_index",
    "highlight",
    "parse_query",
    "read_articles",
    "render_ansi",
    "render_html",
    "render_plain",
    "render_sparkline",
    "sample_corpus_path",
]
