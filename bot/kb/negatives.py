"""Add a message to an entry's ``not_this`` list in a knowledge-base file's text (pure).

The edit is one inserted line (or two, when the entry has no ``not_this`` yet), so comments,
layout and every other entry stay byte-identical; the result is parsed again and must equal
the original data with just that message appended, or nothing is returned.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["NegativeError", "add_not_this", "add_not_this_to_files", "yaml_quote"]

SECTIONS = ("objections", "benefits")


class NegativeError(ValueError):
    """The message cannot be added; the text is one sentence for a moderator."""


def _printable(char: str) -> bool:
    """Whether YAML allows ``char`` unescaped inside a double-quoted scalar on one line."""
    code = ord(char)
    if char in '"\\':
        return False
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    ) and code not in (0x2028, 0x2029)


def yaml_quote(text: str) -> str:
    """``text`` as a one-line YAML double-quoted scalar."""
    out = ['"']
    for char in text:
        if _printable(char):
            out.append(char)
        elif char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _find_entry(root: yaml.Node | None, entry_id: str) -> yaml.MappingNode | None:
    """The mapping node of the entry ``entry_id`` (under ``objections`` or ``benefits``)."""
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if not (isinstance(key, yaml.ScalarNode) and key.value in SECTIONS):
            continue
        if not isinstance(value, yaml.SequenceNode):
            continue
        for item in value.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            for k, v in item.value:
                if (
                    isinstance(k, yaml.ScalarNode)
                    and k.value == "id"
                    and isinstance(v, yaml.ScalarNode)
                    and v.value == entry_id
                ):
                    return item
    return None


def _data_entry(data: Any, entry_id: str) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    for section in SECTIONS:
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and item.get("id") == entry_id:
                return item
    return None


def _last_leaf(node: yaml.Node) -> yaml.Node:
    """The node whose end is the end of ``node``'s text (block collections end late)."""
    while isinstance(node, yaml.SequenceNode | yaml.MappingNode) and not node.flow_style:
        if not node.value:
            break
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node


def _last_line(node: yaml.Node, lines: list[str]) -> int:
    """The 0-based index of the last line holding ``node``'s text."""
    leaf = _last_leaf(node)
    end = leaf.end_mark
    if end.column > 0 or end.line <= leaf.start_mark.line:
        return int(end.line)
    line = int(end.line) - 1  # a block scalar ends at the start of the next line
    while line > leaf.start_mark.line and not lines[line].strip():
        line -= 1
    return line


def _newline(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _insert_after(lines: list[str], index: int, new: list[str]) -> str:
    newline = _newline(lines)
    head = lines[: index + 1]
    if head and not head[-1].endswith(("\n", "\r")):
        head[-1] += newline
    return "".join([*head, *(line + newline for line in new), *lines[index + 1 :]])


def add_not_this(text: str, entry_id: str, message: str) -> str:
    """``text`` (one knowledge-base file) with ``message`` appended to ``entry_id``'s
    ``not_this`` list; NegativeError when the entry is missing, the message is empty or
    already listed, or the file's layout cannot be edited safely."""
    message = message.strip()
    if not message:
        raise NegativeError("the message is empty")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        before = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NegativeError(f"the file is not valid YAML ({exc.__class__.__name__})") from exc
    entry = _find_entry(root, entry_id)
    if entry is None:
        raise NegativeError(f"there is no entry `{entry_id}` in this file")
    if entry.flow_style:
        raise NegativeError(f"`{entry_id}` is written in flow style; add the negative by hand")
    lines = text.splitlines(keepends=True)
    quoted = yaml_quote(message)
    pairs = [(k, v) for k, v in entry.value if isinstance(k, yaml.ScalarNode)]
    key_column = int(pairs[0][0].start_mark.column)
    found = next(((k, v) for k, v in pairs if k.value == "not_this"), None)
    if found is None:
        last = _last_line(entry.value[-1][1], lines)
        pad = " " * key_column
        new = _insert_after(lines, last, [f"{pad}not_this:", f"{pad}  - {quoted}"])
    else:
        key, value = found
        if isinstance(value, yaml.SequenceNode):
            existing = [v.value for v in value.value if isinstance(v, yaml.ScalarNode)]
            if any(_norm(v) == _norm(message) for v in existing):
                raise NegativeError(f"that message already is in `{entry_id}`'s not_this")
        if isinstance(value, yaml.SequenceNode) and value.flow_style:
            close = int(value.end_mark.index) - 1
            if text[close : close + 1] != "]":
                raise NegativeError("the not_this list's layout is unusual; add it by hand")
            joined = (", " if value.value else "") + quoted
            new = text[:close] + joined + text[close:]
        elif isinstance(value, yaml.SequenceNode) and value.value:
            first = value.value[0]
            row = lines[first.start_mark.line]
            dash = row.rfind("-", 0, first.start_mark.column)
            if dash < 0 or row[:dash].strip():
                raise NegativeError("the not_this list's layout is unusual; add it by hand")
            new = _insert_after(lines, _last_line(value, lines), [f"{row[:dash]}- {quoted}"])
        elif (
            isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null") and not (value.value)
        ):
            pad = " " * (key_column + 2)
            new = _insert_after(lines, int(key.start_mark.line), [f"{pad}- {quoted}"])
        else:
            raise NegativeError(f"`{entry_id}`'s not_this is not a list; fix it by hand")
    _verify(before, new, entry_id, message)
    return new


def _verify(before: Any, new: str, entry_id: str, message: str) -> None:
    """The new text must parse to the old data plus the one message."""
    try:
        after = yaml.safe_load(new)
    except yaml.YAMLError as exc:
        raise NegativeError("adding the line would break the file; add it by hand") from exc
    expected = copy.deepcopy(before)
    item = _data_entry(expected, entry_id)
    if item is None:  # pragma: no cover - found in the node tree above
        raise NegativeError(f"there is no entry `{entry_id}` in this file")
    item["not_this"] = [*(item.get("not_this") or []), message]
    if after != expected:
        raise NegativeError("the file's layout could not be edited safely; add it by hand")


def add_not_this_to_files(
    files: Mapping[str, bytes], entry_id: str, message: str, *, hint: str = ""
) -> tuple[str, bytes]:
    """The file holding ``entry_id`` (``hint`` first) and its new bytes with ``message`` in
    its ``not_this``; NegativeError when no file has the entry."""
    names = sorted(files, key=lambda name: (name != hint, name))
    for name in names:
        try:
            text = files[name].decode("utf-8")
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except (UnicodeDecodeError, yaml.YAMLError):
            continue
        if _find_entry(root, entry_id) is not None:
            return name, add_not_this(text, entry_id, message).encode("utf-8")
    raise NegativeError(f"no knowledge-base file has an entry `{entry_id}` (renamed or removed?)")
