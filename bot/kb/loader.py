"""Loads and validates a knowledge-base directory: safe YAML, JSON Schema, semantic checks.

Every problem is located (``file:line: message``, the file relative to the KB directory) and
all problems are collected before :class:`KBError` is raised. The YAML is read as parser
events (libyaml when available) and composed here, so tags other than the plain JSON-like
ones, anchors and aliases (alias bombs), deep nesting and huge node counts are refused
before anything is built.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import logging
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import jsonschema
import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

from bot.kb.model import (
    Benefit,
    Entry,
    EntrySource,
    KBError,
    KnowledgeBase,
    Location,
    Objection,
    Problem,
    Source,
)

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"
SCHEMA_PATH = BUNDLED_DIR / "schema.json"

MAX_FILE_BYTES = 1_000_000
"""Largest accepted knowledge-base file."""
MAX_DEPTH = 16
"""Deepest accepted nesting of mappings and sequences (the format needs 4)."""
MAX_NODES = 100_000
"""Most YAML nodes accepted in one file."""
PARSE_CACHE_BYTES = 4_000_000
"""Most file bytes whose parses are kept (a parse takes about 8x its file's size in memory)."""
KB_SUFFIXES = (".yaml", ".yml")

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_EXPLICIT_OK = {"!", f"{_TAG}str", f"{_TAG}int", f"{_TAG}float", f"{_TAG}bool", f"{_TAG}null"}
_EXPLICIT_OK |= {f"{_TAG}seq", f"{_TAG}map"}
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Refused(Exception):
    """A YAML construct the loader refuses, at a 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Node:
    """A composed YAML value with the line it starts on (and its keys' lines for mappings)."""

    value: Any  # plain scalar, dict[str, _Node] or list[_Node]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def plain(self) -> Any:
        """The value as plain Python data (dicts, lists, scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class _Composer:
    """Builds :class:`_Node` trees from parser events, enforcing the safety limits."""

    def __init__(self, text: str) -> None:
        self._loader = _Loader(text)
        self._constructor = yaml.SafeLoader("")
        self._nodes = 0

    def close(self) -> None:
        self._loader.dispose()

    def _next(self) -> Event:
        event: Event = self._loader.get_event()
        return event

    def _peek(self) -> Event:
        event: Event = self._loader.peek_event()
        return event

    def document(self) -> _Node | None:
        """The single document of the stream (None when the file holds no document)."""
        self._expect(StreamStartEvent)
        if isinstance(self._peek(), StreamEndEvent):
            return None
        self._expect(DocumentStartEvent)
        root = self._node(1)
        self._expect(DocumentEndEvent)
        following = self._next()
        if not isinstance(following, StreamEndEvent):
            raise _Refused(
                _line(following),
                "only one YAML document per file (remove the extra `---`)",
            )
        return root

    def _expect(self, kind: type[Event]) -> Event:
        event = self._next()
        if not isinstance(event, kind):  # pragma: no cover - the parser guarantees the order
            raise _Refused(_line(event), "unexpected YAML structure")
        return event

    def _node(self, depth: int) -> _Node:
        event = self._next()
        line = _line(event)
        if isinstance(event, AliasEvent):
            raise _Refused(line, "aliases (*name) are not allowed; write the value out in full")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(line, f"anchors (&{anchor}) are not allowed; write values out in full")
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _EXPLICIT_OK:
            raise _Refused(line, f"the YAML tag {_short_tag(tag)} is not allowed")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(line, f"too many values in one file (more than {MAX_NODES})")
        if depth > MAX_DEPTH:
            raise _Refused(line, f"nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(event, ScalarEvent):
            return _Node(self._scalar(event), line)
        if isinstance(event, SequenceStartEvent):
            items: list[_Node] = []
            while not isinstance(self._peek(), SequenceEndEvent):
                items.append(self._node(depth + 1))
            self._next()
            return _Node(items, line)
        if isinstance(event, MappingStartEvent):
            mapping: dict[str, _Node] = {}
            key_lines: dict[str, int] = {}
            while not isinstance(self._peek(), MappingEndEvent):
                key_node = self._node(depth + 1)
                if isinstance(key_node.value, dict | list):
                    raise _Refused(key_node.line, "a key must be a plain word, not a list or map")
                key = _key_text(key_node.value)
                value = self._node(depth + 1)
                if key in mapping:
                    raise _Refused(
                        key_node.line,
                        f"duplicate key `{key}` (already set at line {key_lines[key]})",
                    )
                mapping[key] = value
                key_lines[key] = key_node.line
            self._next()
            return _Node(mapping, line, key_lines)
        raise _Refused(line, "unexpected YAML structure")  # pragma: no cover

    def _scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        if tag == "!":
            tag = f"{_TAG}str"
        elif tag is None:
            tag = self._loader.resolve(ScalarNode, event.value, event.implicit)
        if tag == f"{_TAG}merge":
            raise _Refused(_line(event), "merge keys (<<) are not allowed")
        if tag not in _SCALAR_TAGS:
            raise _Refused(_line(event), f"the YAML tag {_short_tag(tag)} is not allowed")
        if tag in (f"{_TAG}str", f"{_TAG}timestamp"):
            return event.value
        node = ScalarNode(tag, event.value, None, None, event.style)
        try:
            return self._constructor.construct_object(node)
        except (ValueError, yaml.YAMLError) as exc:
            raise _Refused(_line(event), f"bad value {event.value!r}: {exc}") from exc


def _line(event: Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _key_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def digest_files(files: Mapping[str, bytes]) -> str:
    """sha256 over the sorted file names and their bytes (the knowledge base's version)."""
    h = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        h.update(name.encode("utf-8") + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def is_kb_filename(name: str) -> bool:
    """True for the names the loader reads: ``*.yaml``/``*.yml``, not hidden."""
    return name.endswith(KB_SUFFIXES) and not name.startswith(".")


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Parsed:
    root: _Node | None
    problems: tuple[Problem, ...]


class _ParseCache:
    """Parses of files that were part of a knowledge base that loaded, bounded by file bytes.

    Only files of a successful load are added, so a refused upload is never kept; the least
    recently used parses are dropped once their files add up to more than ``max_bytes``.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str], tuple[int, _Parsed]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(name: str, data: bytes) -> tuple[str, str]:
        return name, hashlib.sha256(data).hexdigest()

    def get(self, key: tuple[str, str]) -> _Parsed | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[1]

    def add(self, key: tuple[str, str], size: int, parsed: _Parsed) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[0]
            self._items[key] = (size, parsed)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (dropped, _) = self._items.popitem(last=False)
                self._bytes -= dropped

    @property
    def size(self) -> int:
        """Bytes of the files whose parses are kept."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


_cache = _ParseCache(PARSE_CACHE_BYTES)


def _parse(name: str, data: bytes) -> _Parsed:
    """Decode, compose and schema-check one file (not cached; see :class:`_ParseCache`)."""
    if len(data) > MAX_FILE_BYTES:
        return _Parsed(None, (Problem(name, 1, _too_big(len(data))),))
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        return _Parsed(None, (Problem(name, line, "binary data, not YAML text"),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        msg = f"not valid UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        return _Parsed(None, (Problem(name, line, msg),))
    composer = _Composer(text)
    try:
        root = composer.document()
    except _Refused as exc:
        return _Parsed(None, (Problem(name, max(exc.line, 1), exc.message),))
    except yaml.MarkedYAMLError as exc:
        line = _mark_line(exc)
        opened = _open_quote_line(text, exc, line)
        message = _yaml_message(exc)
        if opened:
            line, message = opened, f"{message} (the quote opened on this line is not closed)"
        return _Parsed(None, (Problem(name, line, message),))
    except yaml.YAMLError as exc:
        return _Parsed(None, (Problem(name, _reader_line(exc, text), _plain_yaml(exc)),))
    finally:
        composer.close()
    if root is None or root.value is None:
        return _Parsed(None, ())  # an empty file contributes nothing
    if not isinstance(root.value, dict):
        msg = (
            "the file must be a map with keys such as `objections:` and `benefits:`, "
            f"found {_found(root.value)}"
        )
        return _Parsed(None, (Problem(name, root.line, msg),))
    return _Parsed(root, tuple(_schema_problems(name, root, root.plain())))


def _too_big(size: int) -> str:
    return f"file too large ({size:,} bytes; at most {MAX_FILE_BYTES:,})"


def _unclosed(exc: yaml.MarkedYAMLError) -> bool:
    """True when the error is an unclosed quote or bracket (its opening line is what matters)."""
    context = exc.context or ""
    opened = context.startswith(("while scanning a quoted", "while parsing a flow"))
    return opened and exc.context_mark is not None


def _started_key(exc: yaml.MarkedYAMLError) -> bool:
    """True when a line that looked like a key never got its colon (the line at fault)."""
    return (exc.context or "").startswith("while scanning a simple key")


def _mark_line(exc: yaml.MarkedYAMLError) -> int:
    at_start = _unclosed(exc) or (_started_key(exc) and exc.context_mark is not None)
    mark = exc.context_mark if at_start else (exc.problem_mark or exc.context_mark)
    return mark.line + 1 if mark is not None else 1


def _open_quote_line(text: str, exc: yaml.MarkedYAMLError, line: int) -> int:
    """The line before ``line`` when a double quote opened there runs on into the error.

    ``- "two`` (no closing quote) on line 8 swallows line 9 up to its first quote, and the
    parser only stumbles after it: the mistake is on line 8. 0 when that is not the case.
    """
    mark = exc.problem_mark
    if mark is None or line < 2 or mark.line + 1 != line:
        return 0
    lines = text.splitlines()
    if line > len(lines):
        return 0
    previous, here = lines[line - 2], lines[line - 1][: mark.column]
    unescaped = previous.replace("\\\\", "").replace('\\"', "")
    return line - 1 if unescaped.count('"') % 2 == 1 and '"' in here else 0


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    context = f" {exc.context}" if exc.context else ""
    text = f"YAML syntax error: {problem}{context}"
    if _unclosed(exc) and exc.problem_mark is not None:
        text += f" (opened here, still open at line {exc.problem_mark.line + 1})"
    if "tab" in problem:
        text += " (use spaces, not tabs, for indentation)"
    return " ".join(text.split())


def _reader_line(exc: yaml.YAMLError, text: str) -> int:
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return text[:position].count("\n") + 1
    return 1


def _plain_yaml(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return f"unreadable character {exc.character!r} (control characters are not allowed)"
    return " ".join(f"YAML error: {exc}".split())


# --------------------------------------------------------------------------- schema


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(_inline_refs(schema, schema.get("$defs", {})))
    return validator


def _inline_refs(schema: Any, defs: Mapping[str, Any]) -> Any:
    """The schema with its local ``#/$defs/...`` references expanded (validation is ~4x faster)."""
    if isinstance(schema, list):
        return [_inline_refs(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    ref = out.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {**target, **out}
    if ref is not None:
        out["$ref"] = ref
    return out


def _node_at(root: _Node, path: Iterator[Any] | list[Any]) -> _Node:
    node = root
    for step in path:
        value = node.value
        in_map = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and step < len(value)
        if not (in_map or in_list):
            break
        node = value[step]
    return node


def _describe(path: list[Any], data: Any) -> str:
    """A moderator-readable name for a place in a file, e.g. "objection `too-busy` triggers"."""
    words: list[str] = []
    node = data
    for i, step in enumerate(path):
        child = _child(node, step)
        if isinstance(step, int):
            if i == 1 and path[0] in ("objections", "benefits"):
                kind = "objection" if path[0] == "objections" else "benefit"
                ident = child.get("id") if isinstance(child, dict) else None
                if isinstance(ident, str) and ident:
                    words[-1:] = [f"{kind} `{ident}`"]
                else:
                    words[-1:] = [f"{kind} #{step + 1}"]
            else:
                words.append(f"item {step + 1}")
        else:
            words.append(f"`{step}`")
        node = child
    return " ".join(words) if words else "the file"


def _child(node: Any, step: Any) -> Any:
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return None


_TYPE_NAMES = {
    "string": "text",
    "array": "a list",
    "object": "a map of keys",
    "integer": "a whole number",
}


def _found(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false (put it in quotes)"
    if isinstance(value, int | float):
        return "a number (put it in quotes)"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a map of keys"


def _schema_problems(name: str, root: _Node, data: Any) -> list[Problem]:
    problems: list[Problem] = []
    reported_missing: set[tuple[Any, ...]] = set()
    for error in _validator().iter_errors(data):
        path = list(error.absolute_path)
        node = _node_at(root, path)
        where = _describe(path, data)
        line = node.line
        kind = error.validator
        instance = error.instance
        if kind == "type":
            expected = error.validator_value
            want = _TYPE_NAMES.get(expected, expected) if isinstance(expected, str) else expected
            msg = f"{where} must be {want}, found {_found(instance)}"
        elif kind == "required":
            # jsonschema reports each missing key as its own error: report each key once.
            wanted: Any = error.validator_value
            missing = [k for k in wanted if isinstance(instance, dict) and k not in instance]
            place = tuple(path)
            if place not in reported_missing:
                reported_missing.add(place)
                problems += [Problem(name, line, f"{where} is missing `{k}`") for k in missing]
            continue
        elif kind == "enum":
            allowed_values: Any = error.validator_value
            choices = " or ".join(f"`{v}`" for v in allowed_values)
            msg = f"{where} must be {choices}, found {instance!r}"
        elif kind == "additionalProperties" and isinstance(instance, dict):
            schema: Any = error.schema
            allowed = list(schema.get("properties", {}))
            extra = [k for k in instance if k not in allowed]
            for key in extra:
                key_line = node.key_lines.get(key, line)
                hint = difflib.get_close_matches(key, allowed, n=1)
                tip = (
                    f" (did you mean `{hint[0]}`?)" if hint else f"; allowed: {', '.join(allowed)}"
                )
                problems.append(Problem(name, key_line, f"unknown key `{key}` in {where}{tip}"))
            continue
        elif kind == "pattern" and error.validator_value == "\\S":
            msg = f"{where} must not be empty"
        elif kind == "pattern":
            msg = (
                f"{where}: {instance!r} is not a valid id; use lower-case words joined by "
                "hyphens, e.g. too-busy"
            )
        elif kind == "minItems":
            msg = f"{where} must list at least {error.validator_value} item(s)"
        elif kind == "maxLength" and isinstance(instance, str):
            msg = (
                f"{where} is too long ({len(instance)} characters, at most {error.validator_value})"
            )
        else:
            msg = f"{where}: {error.message}"
        problems.append(Problem(name, line, msg))
    return problems


# --------------------------------------------------------------------------- semantic checks


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(slots=True)
class _Collected:
    objections: list[Objection] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    sources: list[tuple[Source, str, int]] = field(default_factory=list)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ids: dict[str, tuple[str, int]] = field(default_factory=dict)
    refs: list[tuple[str, int, str, str]] = field(default_factory=list)  # file, line, owner, ref
    ordinary: dict[str, tuple[str, Location]] = field(default_factory=dict)  # norm -> text, where
    phrasings: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> norm -> text
    phrasing_ids: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, id


def _strings(node: _Node | None) -> tuple[tuple[str, ...], tuple[int, ...]]:
    if node is None or not isinstance(node.value, list):
        return (), ()
    items = [n for n in node.value if isinstance(n.value, str)]
    return tuple(n.value for n in items), tuple(n.line for n in items)


def _text(item: dict[str, _Node], key: str) -> str:
    node = item.get(key)
    return node.value if node is not None and isinstance(node.value, str) else ""


def _entry_source(item: dict[str, _Node]) -> EntrySource:
    """The entry's ``source`` (the schema has checked it); the community's when unset."""
    value = _text(item, "source")
    return EntrySource(value) if value in set(EntrySource) else EntrySource.COMMUNITY


def _duplicates(name: str, owner: str, key: str, item: dict[str, _Node]) -> list[Problem]:
    node = item.get(key)
    values, lines = _strings(node)
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for value, line in zip(values, lines, strict=True):
        norm = _norm(value)
        if norm in seen:
            problems.append(
                Problem(name, line, f"{owner}: duplicate {key} item {value!r} (line {seen[norm]})")
            )
        else:
            seen[norm] = line
    return problems


def _contradictions(name: str, owner: str, item: dict[str, _Node]) -> list[Problem]:
    """A ``not_this`` message that is also one of the entry's triggers or examples."""
    not_this, lines = _strings(item.get("not_this"))
    own = {_norm(t) for key in ("triggers", "examples") for t in _strings(item.get(key))[0]}
    return [
        Problem(
            name,
            line,
            f"{owner}: {text!r} is listed both in not_this and as a trigger or example; "
            "keep it in one place",
        )
        for text, line in zip(not_this, lines, strict=True)
        if _norm(text) in own
    ]


class _EntryFields(TypedDict):
    """The constructor keywords of :class:`EntryBase`, read from one entry of a file."""

    id: str
    title: str
    triggers: tuple[str, ...]
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    not_this: tuple[str, ...]
    location: Location
    trigger_lines: tuple[int, ...]
    example_lines: tuple[int, ...]
    not_this_lines: tuple[int, ...]
    field_lines: dict[str, int]
    source: EntrySource


def _entry(kind: str, ident: str, name: str, node: _Node, item: dict[str, _Node]) -> Entry:
    """The objection or benefit (``kind``) that ``item`` of file ``name`` defines."""
    triggers, trigger_lines = _strings(item.get("triggers"))
    examples, example_lines = _strings(item.get("examples"))
    not_this, not_this_lines = _strings(item.get("not_this"))
    common = _EntryFields(
        id=ident,
        title=_text(item, "title").strip(),
        triggers=triggers,
        keywords=_strings(item.get("keywords"))[0],
        examples=examples,
        not_this=not_this,
        location=Location(name, node.line),
        trigger_lines=trigger_lines,
        example_lines=example_lines,
        not_this_lines=not_this_lines,
        field_lines={key: value.line for key, value in item.items()},
        source=_entry_source(item),
    )
    answer = _text(item, "answer").strip()
    if kind == "objection":
        return Objection(
            **common,
            answer=answer,
            context=_strings(item.get("context"))[0],
            everyday=_strings(item.get("everyday"))[0],
            benefits=_strings(item.get("benefits"))[0],
        )
    return Benefit(
        **common,
        summary=_text(item, "summary").strip(),
        topics=_strings(item.get("topics"))[0],
        answer=answer,
    )


def _collect(name: str, root: _Node, out: _Collected) -> list[Problem]:
    problems: list[Problem] = []
    top = root.value
    assert isinstance(top, dict)
    for section, kind in (("objections", "objection"), ("benefits", "benefit")):
        seq = top.get(section)
        if seq is None or not isinstance(seq.value, list):
            continue
        for node in seq.value:
            item = node.value
            if not isinstance(item, dict):
                continue
            ident = _text(item, "id")
            if not ident:
                continue
            id_line = item["id"].line
            owner = f"{kind} `{ident}`"
            if ident in out.ids:
                first_file, first_line = out.ids[ident]
                problems.append(
                    Problem(
                        name,
                        id_line,
                        f"duplicate id `{ident}` (first at {first_file}:{first_line})",
                    )
                )
                continue
            out.ids[ident] = (name, id_line)
            for key in ("triggers", "keywords", "context", "everyday", "examples", "topics"):
                problems += _duplicates(name, owner, key, item)
            problems += _duplicates(name, owner, "not_this", item)
            problems += _contradictions(name, owner, item)
            for key in ("benefits",):
                problems += _duplicates(name, owner, key, item)
            entry = _entry(kind, ident, name, node, item)
            if isinstance(entry, Objection):
                refs, ref_lines = _strings(item.get("benefits"))
                for ref, line in zip(refs, ref_lines, strict=True):
                    out.refs.append((name, line, owner, ref))
                out.objections.append(entry)
            else:
                out.benefits.append(entry)
    source = top.get("source")
    if source is not None and isinstance(source.value, dict):
        fields = {k: v.value for k, v in source.value.items() if isinstance(v.value, str)}
        out.sources.append(
            (
                Source(
                    name=fields.get("name", "").strip(),
                    title=fields.get("title", "").strip(),
                    date=fields.get("date", "").strip(),
                    author=fields.get("author", "").strip(),
                    url=fields.get("url", "").strip(),
                    footer=fields.get("footer", "").strip(),
                    community=fields.get("community", "").strip(),
                    location=Location(name, top["source"].line),
                ),
                name,
                root.key_lines.get("source", source.line),
            )
        )
    lines, line_numbers = _strings(top.get("ordinary"))
    for text, line in zip(lines, line_numbers, strict=True):
        norm = _norm(text)
        if norm in out.ordinary:
            first = out.ordinary[norm][1]
            problems.append(
                Problem(
                    name,
                    line,
                    f"duplicate ordinary line {text!r} (first at {first.file}:{first.line})",
                )
            )
        else:
            out.ordinary[norm] = (text, Location(name, line))
    problems += _collect_phrasings(name, top.get("phrasings"), out)
    synonyms = top.get("synonyms")
    if synonyms is not None and isinstance(synonyms.value, dict):
        for canon, variants in synonyms.value.items():
            values, _ = _strings(variants)
            if canon in out.synonyms:
                line = synonyms.key_lines.get(canon, synonyms.line)
                problems.append(Problem(name, line, f"synonyms for `{canon}` defined twice"))
            out.synonyms[canon] = values
    return problems


def _collect_phrasings(name: str, node: _Node | None, out: _Collected) -> list[Problem]:
    """A file's ``phrasings:`` (entry id -> members' messages); a line given twice for one
    entry is a problem (unknown ids are found once every file is read)."""
    if node is None or not isinstance(node.value, dict):
        return []
    problems: list[Problem] = []
    for ident, lines in node.value.items():
        out.phrasing_ids.append((name, node.key_lines.get(ident, node.line), ident))
        seen = out.phrasings.setdefault(ident, {})
        for text, line in zip(*_strings(lines), strict=True):
            norm = _norm(text)
            if norm in seen:
                problems.append(Problem(name, line, f"duplicate phrasing for `{ident}`: {text!r}"))
            seen[norm] = text
    return problems


# --------------------------------------------------------------------------- entry points


def load_knowledge(directory: Path | None = None, *, label: str | None = None) -> KnowledgeBase:
    """Load every ``*.yaml``/``*.yml`` file in ``directory`` (default: the bundled KB).

    Raises :class:`KBError` with every problem found, each ``file:line: message``; ``label``
    names the directory in problems about the directory itself (default: its path).
    """
    directory = directory if directory is not None else BUNDLED_DIR
    files, problems = scan_knowledge_files(directory, label=label)
    return load_scanned(directory, files, problems, label=label)


def load_scanned(
    directory: Path,
    files: Mapping[str, bytes],
    problems: Sequence[Problem],
    *,
    label: str | None = None,
) -> KnowledgeBase:
    """The knowledge base of files read from ``directory`` with the directory's own
    ``problems`` (skipped entries): errors among them raise :class:`KBError` at once, and
    warnings are logged, or added to the loader's errors when the files do not load."""
    if any(p.severity == "error" for p in problems):
        raise KBError(list(problems))
    try:
        kb = load_knowledge_from_texts(files, origin=str(directory), label=label)
    except KBError as exc:
        raise KBError([*exc.problems, *problems]) from None
    for problem in problems:
        log.warning("knowledge directory %s: %s", directory, problem)
    return kb


def read_knowledge_files(directory: Path, *, label: str | None = None) -> dict[str, bytes]:
    """The knowledge-base files of ``directory`` by name; :class:`KBError` if unreadable.

    Entries that are skipped (symbolic links, folders named ``*.yaml``) are logged as warnings.
    """
    files, problems = scan_knowledge_files(directory, label=label)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise KBError(problems)
    for problem in problems:
        log.warning("knowledge directory %s: %s", directory, problem)
    return files


def scan_knowledge_files(
    directory: Path, *, label: str | None = None
) -> tuple[dict[str, bytes], list[Problem]]:
    """The knowledge-base files of ``directory`` by name, and the problems met reading them.

    Only regular files directly in the directory are read. A symbolic link is never followed
    (whether it points inside the directory or out of it) and a folder named ``*.yaml`` is not
    read: both are skipped with a warning. Unreadable and oversized files are errors. A missing
    or unlistable directory raises :class:`KBError`.
    """
    where = label if label is not None else str(directory)
    if not directory.exists():
        raise KBError([Problem(where, 0, "knowledge-base directory does not exist")])
    if not directory.is_dir():
        raise KBError([Problem(where, 0, "is not a directory")])
    problems: list[Problem] = []
    files: dict[str, bytes] = {}
    try:
        paths = sorted(p for p in directory.iterdir() if is_kb_filename(p.name))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise KBError([Problem(where, 0, f"cannot list directory: {reason}")]) from exc
    for path in paths:
        try:
            data = read_regular_file(path)
        except _Skipped as exc:
            problems.append(Problem(path.name, 1, str(exc), severity="warning"))
            continue
        except OSError as exc:
            problems.append(Problem(path.name, 1, f"cannot read: {exc.strerror or exc}"))
            continue
        if len(data) > MAX_FILE_BYTES:
            problems.append(Problem(path.name, 1, _too_big(_size(path, len(data)))))
            continue
        files[path.name] = data
    return files, problems


class _Skipped(Exception):
    """A directory entry that is not a regular file (the message says what it is)."""


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES + 1) -> bytes:
    """Up to ``limit`` bytes of ``path``, which must be a regular file and not a symbolic link.

    Raises ``_Skipped`` (its message says what the entry is) for a link, a folder or anything
    else, and OSError when reading fails. The check and the read use the
    same open file (``O_NOFOLLOW``), so a link swapped in meanwhile is not followed either.
    """
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise _Skipped(
            "is a symbolic link, which the bot does not follow in the knowledge directory; "
            "skipped (put the file itself there)"
        )
    if stat.S_ISDIR(st.st_mode):
        raise _Skipped("is a folder, not a file; skipped (rename it or move it away)")
    if not stat.S_ISREG(st.st_mode):
        raise _Skipped("is not a regular file; skipped")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise _Skipped("is not a regular file; skipped")
        return fh.read(limit)


def _size(path: Path, fallback: int) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return fallback


def load_knowledge_from_texts(
    files: Mapping[str, bytes], *, origin: str = "", label: str | None = None
) -> KnowledgeBase:
    """Validate and build a knowledge base from file contents by name, without touching disk.

    ``origin`` (a directory or a label such as "upload") prefixes the paths in
    ``KnowledgeBase.files`` and, unless ``label`` is given, names where an empty set of files
    came from.
    """
    label = label if label is not None else (origin or "knowledge base")
    names = sorted(files)
    if not names:
        raise KBError([Problem(label, 0, "no knowledge-base files (*.yaml) found")])
    problems: list[Problem] = []
    out = _Collected()
    base = Path(origin) if origin else Path()
    fresh: list[tuple[tuple[str, str], int, _Parsed]] = []
    for name in names:
        data = bytes(files[name])
        key = _cache.key(name, data)
        cached = _cache.get(key)
        parsed = cached if cached is not None else _parse(name, data)
        if cached is None:
            fresh.append((key, len(data), parsed))
        problems += parsed.problems
        if parsed.root is not None:
            problems += _collect(name, parsed.root, out)
    problems += _cross_checks(out, names)
    if problems:
        problems.sort(key=lambda p: (p.file, p.line))
        raise KBError(problems)
    for key, size, parsed in fresh:
        _cache.add(key, size, parsed)
    source = out.sources[0][0]
    return KnowledgeBase(
        objections=tuple(out.objections),
        benefits=tuple(out.benefits),
        source=source,
        synonyms=out.synonyms,
        files=tuple(base / n for n in names),
        digest=digest_files(files),
        ordinary=tuple(text for text, _ in out.ordinary.values()),
        ordinary_locations=tuple(where for _, where in out.ordinary.values()),
        phrasings={k: tuple(v.values()) for k, v in out.phrasings.items() if v},
    )


def _cross_checks(out: _Collected, names: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    benefit_ids = [b.id for b in out.benefits]
    for file, line, owner, ref in out.refs:
        if ref not in benefit_ids:
            hint = difflib.get_close_matches(ref, benefit_ids, n=1)
            tip = f" (did you mean `{hint[0]}`?)" if hint else ""
            problems.append(Problem(file, line, f"{owner} refers to unknown benefit `{ref}`{tip}"))
    entry_ids = [*out.ids]
    for file, line, ident in out.phrasing_ids:
        if ident not in out.ids:
            hint = difflib.get_close_matches(ident, entry_ids, n=1)
            tip = f" (did you mean `{hint[0]}`?)" if hint else ""
            problems.append(Problem(file, line, f"phrasings for unknown entry `{ident}`{tip}"))
    if not out.sources:
        file = "source.yaml" if "source.yaml" in names else names[0]
        problems.append(
            Problem(file, 1, "no file defines `source:` (the attribution shown in footers)")
        )
    for _source, file, line in out.sources[1:]:
        first = out.sources[0]
        problems.append(
            Problem(file, line, f"`source:` is defined twice (first at {first[1]}:{first[2]})")
        )
    return problems
