"""fbt, the feedback build tool: rated chat replies in, fine-tuning data out.

Parse, call one engine function, print. Engine errors become exit codes in Cli.invoke."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import engine
from engine.report import summarize, table_batches
from exporters import FORMAT_NAMES


class Cli(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            with engine.failures_in_one_line():  # Ctrl-C, SIGTERM, a full disk: EngineErrors too
                return super().invoke(ctx)
        except engine.EngineError as e:
            error = click.ClickException(str(e))
            error.exit_code = e.exit_code  # 2 for misuse, 130/143 when interrupted, 1 for any other failure
            raise error from e


class SpreadFormats(click.Command):
    """Accept the original script's `--format json alpaca` by rewriting it to repeated options."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_option(args, "--format"))


def spread_option(args: list[str], option: str) -> list[str]:
    """
    >>> spread_option(["--format", "json", "alpaca", "--min-rating", "5"], "--format")
    ['--format', 'json', '--format', 'alpaca', '--min-rating', '5']
    """
    out: list[str] = []
    taking = pending = False
    for arg in args:
        if taking and not arg.startswith("-"):
            out += [option, arg]
            pending = False
            continue
        if pending:
            out.append(option)  # `--format` with no value: let click say so
        taking = pending = arg == option
        if not taking:
            out.append(arg)
    return out + [option] * pending


def parse_var(ctx, param, items):
    given = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}")
        given.append(engine.GivenVar(name.strip(), value, "--var"))
    return given


def parse_vars(ctx, param, text):
    if text is None:
        return []
    try:
        values = json.loads(text)
    except ValueError as e:
        raise click.BadParameter(f"expected a JSON object, e.g. '{{\"min_rating\": 5}}' ({e})")
    except RecursionError:
        raise click.BadParameter("expected a JSON object of vars, e.g. '{\"min_rating\": 5}'; this "
                                 "one is nested too deeply to read") from None
    if not isinstance(values, dict):
        raise click.BadParameter("expected a JSON object, e.g. '{\"min_rating\": 5}'")
    return [engine.GivenVar(k, v, "--vars", is_text=False) for k, v in values.items()]


SHORTHANDS = {"min_rating": "--min-rating", "model_name": "--model-name",
              "feedback_file": "--feedback-file", "output_dir": "--output-dir"}


LOOP_FLAGS = {"new_only": "--new-only", "full_refresh": "--full-refresh", "allow_shrink": "--allow-shrink"}


def loop_flags(command):
    """--new-only, --full-refresh and --allow-shrink, shorthands for the vars set true."""
    command = click.option("--allow-shrink", "allow_shrink", is_flag=True,
                           help="Build even from a log with fewer records than the last build read")(command)
    command = click.option("--full-refresh", "full_refresh", is_flag=True,
                           help="Forget which samples earlier builds exported")(command)
    return click.option("--new-only", "new_only", is_flag=True,
                        help="Export only samples no earlier build exported, to files named with "
                             "the build's time")(command)


def var_options(command):
    """--var, --vars and the original script's flags, each a shorthand for a var."""
    for name, flag in reversed(SHORTHANDS.items()):
        command = click.option(flag, name, metavar="VALUE", help=f"Shorthand for --var {name}=VALUE")(command)
    command = click.option("--vars", "vars_json", callback=parse_vars, metavar="JSON",
                           help="Vars as a JSON object, e.g. '{\"min_rating\": 5}'")(command)
    return click.option("--var", "var_items", multiple=True, callback=parse_var, metavar="KEY=VALUE",
                        help="Set a var (repeatable); VALUE is read as JSON, else as text")(command)


def load(ctx: click.Context, options: dict, formats: tuple[str, ...] = ()) -> engine.Project:
    given = options.pop("vars_json") + options.pop("var_items")
    given += [engine.GivenVar(name, options.pop(name), flag)
              for name, flag in SHORTHANDS.items() if options.get(name) is not None]
    if formats:
        given.append(engine.GivenVar("formats", list(formats), "--format", is_text=False))
    given += [engine.GivenVar(name, True, flag, is_text=False)
              for name, flag in LOOP_FLAGS.items() if options.pop(name, False)]
    return project_of(ctx, given, options.pop("target", None))


def project_of(ctx: click.Context, given: list | None = None, target: str | None = None) -> engine.Project:
    """The project of --project-dir, else the one around the current folder, for --target."""
    return engine.load_project(ctx.obj or Path.cwd(), given or [], target)


def target_option(command):
    """--target NAME: which of pyproject.toml's [tool.fbt.targets] runs the models (default duckdb)."""
    return click.option("--target", "-t", "target", metavar="NAME",
                        help="The target to run on, from [tool.fbt.targets] (default: duckdb; "
                             "e.g. spark)")(command)


def progress_printer(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(message, err=True)


@click.group(cls=Cli)
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The project folder (default: the nearest one with [tool.fbt] in pyproject.toml)")
@click.version_option("0.1.0", prog_name="fbt")
@click.pass_context
def cli(ctx, project_dir):
    "fbt: turn rated chat replies into fine-tuning data with SQL models in DuckDB (or Spark)."
    ctx.obj = project_dir


@cli.command(cls=SpreadFormats)
@var_options
@loop_flags
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_NAMES),
              help="Formats to write (default: json jsonl alpaca); `--format json alpaca` works")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr")
@target_option
@click.pass_context
def build(ctx, formats, quiet, **options):
    """Run every model, check the data, and write the training files.

    \b
    Example:
      python cli.py build --min-rating 5 --format json alpaca --output-dir ./training_data_v2
      python cli.py build --new-only --var export_unreviewed=false
    """
    project = load(ctx, options, formats)
    result = engine.build(project, progress=progress_printer(quiet))
    click.echo("\n".join(summarize(result, project.show)))


@cli.command()
@var_options
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr")
@target_option
@click.pass_context
def run(ctx, quiet, **options):
    "Run the models into the database only (no data tests, no files)."
    project = load(ctx, options)
    result = engine.run(project, progress=progress_printer(quiet))
    click.echo("\n".join(summarize(result, project.show)))


@cli.command()
@var_options
@target_option
@click.pass_context
def test(ctx, **options):
    "Run the data tests against the last built database; exit 1 if any fails."
    results = engine.test(load(ctx, options))
    for r in results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'} {r.test.name}" +
                   ("" if r.passed else f": {r.failures} failing row(s)"))
    if not all(r.passed for r in results):
        raise engine.EngineError(f"{sum(not r.passed for r in results)} of {len(results)} data tests failed")


@cli.command("compile")
@click.argument("models", nargs=-1)
@var_options
@target_option
@click.pass_context
def compile_(ctx, models, **options):
    "Print the SQL of the named models (all when none is named) as rendered with the current vars."
    compiled = engine.compile_models(load(ctx, options))
    unknown = [m for m in models if m not in compiled]
    if unknown:
        raise engine.UsageError(f"No model named {', '.join(unknown)}; models: {', '.join(compiled)}")
    for name in models or compiled:
        hooks = "".join(f"\n-- post_hook\n{hook.strip()};\n" for hook in compiled[name].post_hooks)
        click.echo(f"-- {name}\n{compiled[name].sql.strip()}\n{hooks}")


@cli.command("ls")
@click.pass_context
def ls(ctx):
    "List the models in build order, with the models each depends on."
    for name, model in engine.compile_models(project_of(ctx)).items():
        deps = ", ".join(model.refs) or "-"
        exports = f"  exports: {', '.join(model.exports)}" if model.exports else ""
        click.echo(f"{name}  <- {deps}{exports}")


@cli.group()
def review():
    "Review samples by hand: export those awaiting review to a CSV, import the decisions."


@review.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV to write (default: data/review/to_review_<time>.csv)")
@target_option
@click.pass_context
def review_export(ctx, output, target):
    """Write the samples of the last build that await review to a CSV (UTF-8, opens in Excel).

    \b
    Fill in decision (keep or drop) and, to fix a reply, corrected_output; then `review import`.
    Example:
      python cli.py review export -o today.csv
    """
    done = engine.export_review(project_of(ctx, target=target), output)
    click.echo(f"wrote {done.rows} samples awaiting review to {done.path}")
    if done.warning:
        click.echo(f"warning: {done.warning}", err=True)


@review.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@target_option
@click.pass_context
def review_import(ctx, file, target):
    """Store the keep / drop decisions (and corrected replies) of a reviewed CSV; all or nothing.

    \b
    Example:
      python cli.py review import today.csv
    """
    done = engine.import_review(project_of(ctx, target=target), file)
    click.echo(f"imported {done.kept + done.dropped} decisions from {file}: keep {done.kept} "
               f"(corrected {done.corrected}), drop {done.dropped}; {done.changed} replaced an earlier "
               f"decision, {done.blank} rows left blank" + (f"; kept in {done.shared} too" if done.shared else ""))
    if done.warning:
        click.echo(f"warning: {done.warning}", err=True)


@cli.command()
@click.option("--open", "open_", is_flag=True, help="Open the page in the browser once written")
@click.pass_context
def report(ctx, open_):
    """Write target/report.html again from the last build: charts, lineage, files and samples.

    \b
    One self-contained page (no network); every build writes it too.
    Example:
      python cli.py report --open
    """
    project = project_of(ctx)
    path = engine.write_report(project)
    click.echo(f"wrote {project.show(path)}")
    if open_:
        click.launch(str(path))


@cli.command()
@click.argument("sql")
@click.option("--limit", "-n", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Print at most N rows and count the rest (0: print every row, as it comes)")
@target_option
@click.pass_context
def query(ctx, sql, limit, target):
    """Run read-only SQL on the database the last build left, and print a table.

    \b
    The SQL may only read: COPY, EXPORT, ATTACH, INSTALL, SET and the like are refused, and so is
    any file but the sources'. Rows print as they come; past --limit, stderr says how many were
    left out.
    Example:
      python cli.py query "select model_name, avg(rating) from stg_feedback group by 1"
      python cli.py query --limit 0 "from feedback_log" > feedback_log.txt
    """
    answer = engine.run_query(project_of(ctx, target=target), sql, limit)
    for lines in table_batches(answer.columns, answer.batches) if answer.columns else [["ok"]]:
        click.echo("\n".join(lines))
    if answer.left_out:
        click.echo(f"({answer.left_out} more rows not shown: pass --limit 0 to print all of them, "
                   f"or --limit N)", err=True)


if __name__ == "__main__":
    cli()
