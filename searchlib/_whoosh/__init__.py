"""Everything that touches Whoosh lives in this package; nothing in it leaks a Whoosh object.

- ``schema``: fields, analyzer, Article <-> Whoosh document conversion;
- ``store``: create/open/lock/write/commit with OS and lock errors translated;
- ``search``: searchlib query ASTs to Whoosh queries, ranking, counting and facets.
"""
