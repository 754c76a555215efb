"""A YAML reader for documents users write, bounded so no document can hang or exhaust memory.

PyYAML's safe loader still expands aliases (a 600-byte "billion laughs" grows without bound),
builds self-referencing structures, recurses once per nesting level (a deep document is a
RecursionError), turns a 5,000-digit integer into a ValueError and keeps the last of two
duplicate keys silently. A DartRun never needs any of that, so this loader refuses each with a
`yaml.YAMLError` that carries the line and column where it happened.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences; a DartRun is about six levels deep."""
MAX_INTEGER_DIGITS = 24
"""Longest integer literal; the largest value any field accepts (a uint64 seed) has 20."""


class BoundedSafeLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` without aliases, deep nesting, huge integers or duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases (*{event.anchor}) are not allowed; write the value "
                "out in full", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nesting is deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        digits = sum(ch.isalnum() for ch in str(node.value))
        if digits > MAX_INTEGER_DIGITS:
            raise ConstructorError(
                None, None, f"an integer of {digits} digits is too large (at most "
                f"{MAX_INTEGER_DIGITS})", node.start_mark)
        return super().construct_yaml_int(node)


BoundedSafeLoader.add_constructor("tag:yaml.org,2002:int", BoundedSafeLoader.construct_yaml_int)


def _refuse_duplicate_keys(loader: BoundedSafeLoader, node: MappingNode) -> None:
    seen: set = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConstructorError(None, None, "a mapping key must be a plain value, not a "
                                   "list or mapping", key_node.start_mark)
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConstructorError(None, None, f"duplicate key {key!r}; keep only one",
                                   key_node.start_mark)
        seen.add(key)


def load_all(text: str) -> list:
    """Every document in `text`, parsed with the bounds above."""
    loader = BoundedSafeLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


def load_one(text: str):
    """The single document in `text` (None when empty); more than one is a YAMLError."""
    documents = [d for d in load_all(text) if d is not None]
    if len(documents) > 1:
        raise yaml.YAMLError(f"expected exactly one YAML document, found {len(documents)}")
    return documents[0] if documents else None
