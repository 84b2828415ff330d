"""The `walkaway` command: a thin shell over the library; each subcommand lives in ``analyzer/_cli/``."""

from __future__ import annotations

import sys

import click

from analyzer._errors import AnalyzerError


class _Group(click.Group):
    """Turns library errors into one sentence on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AnalyzerError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="walkaway")
def cli() -> None:
    """walkaway: should you pursue, qualify further, walk away from, or nurture this prospect?"""


def _register() -> None:
    # Imported here so a broken optional stage (e.g. the service) cannot break `walkaway parse`.
    import importlib

    for name in ("parse", "analyze", "explain", "eval", "batch", "serve"):
        try:
            mod = importlib.import_module(f"analyzer._cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"analyzer._cli.{name}":
                continue
            raise
        cli.add_command(mod.command)


_register()


def main() -> None:
    """Console-script entry point."""
    import signal

    # SIGTERM (a pipeline cancelling the job) becomes a normal exit, so atexit handlers run and the
    # embedded model server child process is stopped instead of being left behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cli()
