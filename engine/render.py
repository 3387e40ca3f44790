"""Jinja rendering of models and data tests: ref(), source(), var(), config(), this, literal() and the
macros."""

from __future__ import annotations

import hashlib
import pickle
import re
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from jinja2.sandbox import SandboxedEnvironment

from . import vars as vars_module
from .errors import CompileError, EngineError
from .graph import topo_order
from .logcheck import RECORDS
from .logshape import log_format
from .project import Project, SqlFile
from .roles import ROLES
from .vars import Literal, sql_literal, suggest

JINJA = re.compile(r"\{[{%#]")  # where Jinja would render something
MACROS = SqlFile("__macros__", Path("macros"), "")
CONFIG_KEYS = {"materialized": ("table", "view"), "export": None, "tests": None,
               "splits": None, "summary": (True, False), "post_hook": None, "unique_key": None,
               "role": tuple(ROLES), "source_records": tuple(RECORDS), "incremental": (True, False)}


@dataclass
class Rendered:
    """A model or data test after Jinja: its SQL and what it asked for."""

    name: str
    path: Path
    sql: str = ""
    refs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def exports(self) -> list[str]:
        return as_list(self.config.get("export", []))

    @property
    def post_hooks(self) -> list[str]:
        """SQL statements run after the model is built, in order (dbt's post_hook), e.g. an UPDATE of
        {{ this }}: what a single SELECT cannot do in one pass over the data."""
        return as_list(self.config.get("post_hook", []))


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class Relation:
    """What ref() returns: prints as the quoted table name (or, while the rows of the log's new
    records are computed, as the query of the model's new rows: Renderer.parts)."""

    def __init__(self, name: str, part: str | None = None):
        self.name = name
        self.part = part

    def __str__(self) -> str:
        return f"({self.part})" if self.part else quote_identifier(self.name)


def quote_identifier(name: str) -> str:
    """
    >>> quote_identifier('stg_feedback'), quote_identifier('a"b')
    ('"stg_feedback"', '"a""b"')
    """
    return '"' + name.replace('"', '""') + '"'


@dataclass
class ReadLimits:
    """What the models' readers may take (macros/inputs.sql, largest_record): the engine raises it
    when a record is larger, and turns typed off when a record is not of the shape a typed reader
    takes (macros/openwebui.sql; engine/pipeline.py, run_with_room)."""

    record_bytes: int = 16 * 1024 * 1024  # DuckDB's default maximum_object_size
    most: int = 2**32 - 1                 # the most DuckDB takes
    typed: bool = True                    # a reader may give read_json a field's type, not JSON

    def grow(self, cap: int) -> bool:
        """Eight times the room, at most cap (a record is never larger than its file); False when
        there is no more to give."""
        larger = min(self.record_bytes * 8, max(cap, self.record_bytes), self.most)
        grown, self.record_bytes = larger > self.record_bytes, larger
        return grown


@dataclass(frozen=True)
class LogTail:
    """What read_log reads instead of a log that only grew (macros/inputs.sql): the JSON document
    of its new records (path, a SQL literal), numbered on from records_before (engine/tail.py)."""

    path: str
    records_before: int


class Adapter:
    """What a macro calls to do what differs by engine, as dbt's adapter.dispatch: a macro
    `{{ adapter.dispatch('x')(args) }}` runs the target type's `spark__x` (or `duckdb__x`), else
    `default__x`."""

    def __init__(self, renderer: Renderer):
        self.renderer = renderer

    def dispatch(self, name: str):
        globals_ = self.renderer.env.globals
        kind = self.renderer.project.target.type
        for candidate in (f"{kind}__{name}", f"default__{name}"):
            if candidate in globals_:
                return globals_[candidate]
        raise CompileError(f"adapter.dispatch('{name}'): no macro {kind}__{name} nor default__{name} in "
                           f"macros/; define one of them")


class CompiledTemplates(FileSystemBytecodeCache):
    """Each template's Python code, kept in the target folder by its text's checksum (Jinja's own
    bytecode cache, written atomically): a build whose models and macros have not changed skips
    Jinja's parse and compile, 0.2 s of every build. The folder is named by what else the code
    depends on: Jinja's version and fbt's environment (its options and filters, which Jinja
    applies to constants as it compiles: this module and vars.py). A folder it cannot write or a
    file it cannot read is no cache."""

    def __init__(self, target_dir: Path):
        made_by = hashlib.sha256(jinja2.__version__.encode())
        for module in (__file__, vars_module.__file__):
            made_by.update(Path(module).read_bytes())
        self.folder = target_dir / f"jinja-{made_by.hexdigest()[:16]}"
        super().__init__(str(self.folder))

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError, pickle.PickleError):  # (a file cut short, a
            # folder that is a file): compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass

    def clear_stale(self) -> None:
        """What a killed write left in the folder (Jinja's temporary files), and the folders of
        another fbt or Jinja beside it (call under the build lock)."""
        for stale in self.folder.glob("*.tmp"):
            stale.unlink(missing_ok=True)
        for other in self.folder.parent.glob("jinja-*"):
            if other != self.folder:
                shutil.rmtree(other, ignore_errors=True)


class Renderer:
    """One Jinja environment per project; the macros are compiled once, into one module, so that a
    macro may call a macro of another file. Sandboxed, as defence in depth: no template reaches
    Python's internals (cycler.__init__.__globals__), at no measured cost (README, Vars). Templates
    are loaded by path, their code cached on disk (CompiledTemplates), not in memory: a path's
    text may change between two renders (tests write a model again)."""

    def __init__(self, project: Project):
        self.project = project
        self.current: Rendered | None = None
        self.limits = ReadLimits()
        self.tails: dict[str, LogTail] = {}  # source -> only its new records are read (LogTail)
        self.parts: dict[str, str] = {}      # model -> the query of its new rows (engine/increment.py)
        self.adding: dict[str, str] = {}     # model adding the new records' rows -> the query of them
        self.compiled = CompiledTemplates(project.target_dir)
        self.env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
            loader=jinja2.FunctionLoader(self._load), cache_size=0,
            bytecode_cache=self.compiled,
        )
        self.env.filters["literal"] = sql_literal
        self.env.filters["char"] = chr  # a code point as its character (macros/text.sql)
        self.env.globals.update(ref=self.ref, source=self.source, var=self.var, config=self.config,
                                literal=sql_literal, quote_identifier=quote_identifier,
                                read_limits=self.limits, log_format=self.log_format,
                                log_tail=self.tails.get, adapter=Adapter(self), target=self.project.target,
                                is_incremental=self.is_incremental, new_rows=self.new_rows)
        self._formats: dict[Path, str] = {}
        self._macro_files = self.project.macros
        self._texts: dict[str, str] = {}  # template name -> the text of the model or test rendered
        try:
            module = self.env.get_template("__macros__").make_module()
        except jinja2.TemplateSyntaxError as e:
            raise CompileError(f"{self.locate(MACROS, e.lineno)}: {e.message}; fix the Jinja") from e
        self.env.globals.update({name: getattr(module, name) for name in dir(module)
                                 if not name.startswith("_")})

    @cached_property
    def macro_hooks(self) -> set[str]:
        """The literal texts of the macros (literal_hooks)."""
        return literal_hooks(self.env.parse(self._load("__macros__")[0]))

    def _load(self, name: str):
        if name == "__macros__":
            return "\n".join(f.text for f in self._macro_files), "__macros__", lambda: True
        if name in self._texts:
            return self._texts[name], name, lambda: False
        return None

    def _template(self, sql_file: SqlFile) -> jinja2.Template:
        self._texts[str(sql_file.path)] = sql_file.text
        try:
            return self.env.get_template(str(sql_file.path))
        except jinja2.TemplateSyntaxError as e:
            raise CompileError(f"{self.locate(sql_file, e.lineno)}: {e.message}; fix the Jinja") from e

    def _parse(self, sql_file: SqlFile) -> nodes.Template:
        try:
            return self.env.parse(sql_file.text)
        except jinja2.TemplateSyntaxError as e:
            raise CompileError(f"{self.locate(sql_file, e.lineno)}: {e.message}; fix the Jinja") from e

    def locate(self, sql_file: SqlFile, line: int | None) -> str:
        """file:line for a line of a model, or of the macros module (mapped back to its file)."""
        if sql_file is MACROS and line:
            for macro_file in self._macro_files:
                count = macro_file.text.count("\n") + 1
                if line <= count:
                    return f"{self.project.show(macro_file.path)}:{line}"
                line -= count
        return f"{self.project.show(sql_file.path)}" + (f":{line}" if line else "")

    def render(self, sql_file: SqlFile) -> Rendered:
        """Render a model or data test, recording its refs, sources and config."""
        self.current = rendered = Rendered(sql_file.name, sql_file.path)
        template = self._template(sql_file)
        try:
            this = Relation(sql_file.name)
            rendered.sql = template.render(this=this)
            if any(JINJA.search(hook) for hook in rendered.post_hooks):  # (else each is its own text)
                templates = self.macro_hooks | literal_hooks(self._parse(sql_file))
                rendered.config["post_hook"] = [
                    self.env.from_string(hook).render(this=this) if hook in templates else hook
                    for hook in rendered.post_hooks]
        except (jinja2.TemplateError, EngineError, TypeError, ValueError) as e:
            in_macros, line = template_line(e, str(sql_file.path))
            where = self.locate(MACROS if in_macros else sql_file, line)
            message = e.message if isinstance(e, jinja2.TemplateError) else str(e)
            raise CompileError(f"{where}: {message}") from e
        finally:
            self.current = None
        if self.project.target.type != "duckdb":  # the models are written in DuckDB's SQL
            from .dialect import translate
            kind, where = self.project.target.type, self.project.show(sql_file.path)
            rendered.sql = translate(rendered.sql, kind, where)
            if rendered.post_hooks:
                rendered.config["post_hook"] = [translate(hook, kind, f"{where}: post_hook {i}")
                                                for i, hook in enumerate(rendered.post_hooks, 1)]
        return rendered

    # The functions a model calls
    def ref(self, name: str) -> Relation:
        if name not in self.project.models:
            raise CompileError(f"ref('{name}') names no model in models/."
                               f"{suggest(name, self.project.models)}")
        if self.current is not None and name not in self.current.refs:
            self.current.refs.append(name)
        return Relation(name, self.parts.get(name))

    def source(self, name: str) -> str:
        if name not in self.project.sources:
            raise CompileError(f"source('{name}') is not declared in pyproject.toml [tool.fbt.sources]."
                               f"{suggest(name, self.project.sources)}")
        if self.current is not None and name not in self.current.sources:
            self.current.sources.append(name)
        return sql_literal(str(self.source_path(name)))

    def source_path(self, name: str) -> Path:
        return self.project.path(self.project.vars[self.project.sources[name]])

    def log_format(self, name: str) -> str:
        """Which front-end wrote source name: var log_format when given ('app' or 'openwebui'), else
        told from the file's first record (engine/logshape.py)."""
        chosen = self.project.vars.get("log_format", "auto")
        if chosen != "auto":
            return str(chosen)
        path = self.source_path(name)
        if path not in self._formats:
            self._formats[path] = log_format(path)
        return self._formats[path]

    def var(self, name: str) -> Literal:
        if name not in self.project.vars:
            raise CompileError(f"var('{name}') is not declared in pyproject.toml [tool.fbt.vars]."
                               f"{suggest(name, self.project.vars)} Declare it there with its default")
        return Literal(self.project.vars[name])

    def is_incremental(self, relation: Relation | None = None) -> bool:
        """As dbt's: does the model rendered (or relation's, in a data test) add rows to its table
        (the log's new records' rows: engine/tail.py, engine/increment.py), where any other build
        makes it whole?"""
        name = relation.name if relation is not None else self.current.name if self.current else None
        return name in self.adding

    def new_rows(self, relation: Relation) -> str:
        """The rows a build adds to the table (relation: `this`), once they are in: in a build that
        makes the table whole, all of them."""
        part = self.adding.get(relation.name)
        return f"({part})" if part else str(relation)

    def config(self, **settings: Any) -> str:
        for key, value in settings.items():
            if key not in CONFIG_KEYS:
                raise CompileError(f"config({key}=...) is not a setting.{suggest(key, CONFIG_KEYS)}"
                                   f" Settings: {', '.join(CONFIG_KEYS)}")
            allowed = CONFIG_KEYS[key]
            if allowed and value not in allowed:
                raise CompileError(f"config({key}={value!r}): expected one of {', '.join(allowed)}")
        if self.current is not None:
            self.current.config.update(settings)
        return ""


def literal_hooks(tree: nodes.Template) -> set[str]:
    """The texts a template writes as string literals, e.g. config(post_hook="update {{ this }} set
    ..."): a hook that is one of these is a template, rendered once after the model, as in dbt. Any
    other hook (a {% set %} block, a macro's output) was rendered with the model and is taken as it
    is: rendering it again would run a var's value as Jinja. Only the project's own text is ever
    rendered as a template.

    >>> env = jinja2.Environment()
    >>> sorted(literal_hooks(env.parse("{% set h %}x{% endset %}{{ config(post_hook=['a', h]) }}")))
    ['a']
    """
    return {node.value for node in tree.find_all(nodes.Const) if isinstance(node.value, str)}


def template_line(error: BaseException, name: str) -> tuple[bool, int | None]:
    """(in the macros?, line) where an error was raised in template name (or in a hook's
    template), from the traceback Jinja rewrites."""
    found: tuple[bool, int | None] = (False, None)
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in (name, "<template>", "__macros__"):
            found = (filename == "__macros__", tb.tb_lineno)
        tb = tb.tb_next
    return found


def compile_models(project: Project, renderer: Renderer | None = None) -> dict[str, Rendered]:
    """Every model rendered, in build order (each after the models it ref()s)."""
    renderer = renderer or Renderer(project)
    rendered = {name: renderer.render(model) for name, model in project.models.items()}
    order = topo_order({n: r.refs for n, r in rendered.items()},
                       label=lambda n: project.show(project.models[n].path))
    return {name: rendered[name] for name in order}
