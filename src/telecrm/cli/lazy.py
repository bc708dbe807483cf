"""Command groups imported when they run, not when ``telecrm`` starts.

Each group's module pulls its domain's whole stack (Polars, the PDF library, the
HTTP clients...). Importing all of them made every command, ``--help`` included,
pay for all of them. The top-level group knows each command by name and one-line
help only, and imports the module of the one command that runs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group


@dataclass(frozen=True)
class LazyCommand:
    """A command of the top-level group: where it lives and what ``telecrm --help``
    says of it (the first paragraph of the command's own help: tests/cli/test_lazy.py)."""

    target: str  # "package.module:attribute", a Typer app
    help: str
    # The Typer app holds one command, run as ``telecrm NAME`` (not a group of commands).
    single: bool = False

    def load(self, name: str) -> TyperCommand | TyperGroup:
        module_name, attribute = self.target.split(":")
        typer_app: typer.Typer = getattr(importlib.import_module(module_name), attribute)
        command: TyperCommand | TyperGroup
        if self.single:
            (info,) = typer_app.registered_commands
            # Declared as the Command of Typer's private Click; made as a TyperCommand.
            command = cast(
                TyperCommand,
                get_command_from_info(
                    info,
                    pretty_exceptions_short=typer_app.pretty_exceptions_short,
                    rich_markup_mode=typer_app.rich_markup_mode,
                ),
            )
        else:
            command = get_group(typer_app)
        command.name = name
        return command


class _NotLoaded(TyperCommand):
    """What the help listing shows of a command whose module is not imported yet."""

    def __init__(self, name: str, lazy: LazyCommand) -> None:
        super().__init__(name, help=lazy.help)
        self.lazy = lazy


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands are ``lazy_commands``, imported on first use."""

    lazy_commands: ClassVar[dict[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, lazy in self.lazy_commands.items():
            self.commands[name] = _NotLoaded(name, lazy)

    # Typer's own Click is private (typer._click): its context and command types stay Any.
    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _NotLoaded):
            command = self.commands[name] = command.lazy.load(name)
        return name, command, rest
