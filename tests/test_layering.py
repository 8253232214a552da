"""The layers, read from the imports (``ast``, every import in a module, also those inside
functions and ``if TYPE_CHECKING``): the core (``bot/kb``, ``bot/matching``) knows nothing of
the services, the presentation or discord, the knowledge base (``bot/kb``) nothing of the
matcher built on it, and the services (``bot/service``) know nothing of discord or the cogs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DISCORD_SIDE = ("discord", "bot.bot", "bot.cogs", "bot.views", "bot.embeds")
"""discord itself and the modules built on it."""
FORBIDDEN = {
    "bot/kb": (*DISCORD_SIDE, "bot.service", "bot.cards", "bot.matching", "bot.settings"),
    "bot/matching": (*DISCORD_SIDE, "bot.service", "bot.cards", "bot.settings"),
    "bot/service": DISCORD_SIDE,
}


def imports(source: str, module: str) -> list[tuple[int, str]]:
    """Every module ``source`` (the module ``module``) imports, with its line."""
    found: list[tuple[int, str]] = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, modules: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``modules`` or inside one of them."""
    return any(name == m or name.startswith(m + ".") for m in modules)


def violations(source: str, module: str, forbidden: tuple[str, ...]) -> list[str]:
    """The imports of ``source`` that reach a ``forbidden`` module (or one inside it)."""
    return [
        f"line {line}: {name}" for line, name in imports(source, module) if _within(name, forbidden)
    ]


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(folder: str) -> None:
    files = _modules(folder)
    assert files, folder
    problems = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        module = rel.removesuffix(".py").replace("/", ".")
        for line, name in imports(path.read_text(encoding="utf-8"), module):
            if not _within(name, FORBIDDEN[folder]):
                continue
            problems.append(f"{rel}:{line} imports {name}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import discord\n", "bot.kb.x", ["line 1: discord"]),
        ("from discord import ui\n", "bot.kb.x", ["line 1: discord", "line 1: discord.ui"]),
        ("def f():\n    from bot.cogs import moderators\n", "bot.service.x", ["line 2: bot.cogs"]),
        ("from ..service import proposal\n", "bot.kb.x", ["line 1: bot.service"]),
        ("from ..cards import answer_card\n", "bot.matching.x", ["line 1: bot.cards"]),
        ("from bot.kb import model\nimport discordance\n", "bot.service.x", []),
    ],
)
def test_the_rule_sees_every_kind_of_import(source: str, module: str, expected: list[str]) -> None:
    forbidden = (*DISCORD_SIDE, "bot.service", "bot.cards")
    assert violations(source, module, forbidden)[: len(expected)] == expected
    assert bool(violations(source, module, forbidden)) == bool(expected)
