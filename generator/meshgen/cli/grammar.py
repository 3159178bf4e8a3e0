"""What every command group shares: "did you mean" for unknown commands.

Command groups are nouns (`weights`, `versions`, `schemas`, ...); a word that is not one
of a group's commands is answered with the closest names, including a command of another
group (`meshgen set` -> `meshgen weights set`), since users type the verb they remember.
"""

from __future__ import annotations

import difflib

import click


class SuggestingGroup(click.Group):
    """A click group whose "No such command" error names the commands meant."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            suggestions = self.suggest(ctx, name, args[1] if len(args) > 1 else None)
            hint = (
                f" Did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
            )
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def suggest(self, ctx: click.Context, name: str, then: str | None = None) -> list[str]:
        """Same-named commands of the subgroups, then close names of this group (with the
        word that follows when it is one of that group's commands: `versions add`)."""
        names = self.list_commands(ctx)
        nested = []
        for group_name in names:
            group = self.get_command(ctx, group_name)
            if isinstance(group, click.Group) and name in group.list_commands(ctx):
                nested.append(f"{group_name} {name}")
        close = []
        for match in difflib.get_close_matches(name, names, n=2, cutoff=0.6):
            group = self.get_command(ctx, match)
            takes_then = isinstance(group, click.Group) and then in group.list_commands(ctx)
            close.append(f"{match} {then}" if takes_then else match)
        return [*nested, *close]
