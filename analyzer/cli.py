"""The `walkaway` command: a thin shell over the library; each subcommand lives in ``analyzer/_cli/``."""

from __future__ import annotations

import os
import sys
import traceback

import click

from analyzer._errors import EXIT_INTERNAL, EXIT_USAGE, AnalyzerError


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
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except RecursionError:
            click.echo("error: the input is nested too deeply to process", err=True)
            ctx.exit(EXIT_USAGE)
        except Exception as exc:
            # A bug, not bad input: still one sentence for the user, the traceback only on request.
            if os.environ.get("WALKAWAY_DEBUG"):
                traceback.print_exc()
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            at = f" at {os.path.basename(where.filename)}:{where.lineno}" if where else ""
            click.echo(
                f"error: internal error ({type(exc).__name__}{at}: {str(exc)[:200]}); this is a bug in walkaway, "
                "please report it (WALKAWAY_DEBUG=1 shows the traceback)",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Group)
@click.version_option(package_name="walkaway")
def cli() -> None:
    """walkaway: should you pursue, qualify further, walk away from, or nurture this prospect?"""


def _register() -> None:
    # Imported here so a broken optional stage (e.g. the service) cannot break `walkaway parse`.
    import importlib

    for name in ("parse", "analyze", "explain", "eval", "batch", "account", "pipeline", "serve"):
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
