"""Targets, as in dbt: the engine a project's models run on, from pyproject.toml's [tool.fbt.targets].

`duckdb` (the default) is embedded: nothing to start, no Java. `spark` runs the same models on Apache
Spark (engine/spark.py): master local[*] unless the target names one (`"spark.master"`, or
`"spark.remote"` for a Spark Connect URL); every other `spark.*` key is passed to the session as it
is. Only the target a command names is read, so a build without --target imports nothing of Spark's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ProjectError, UsageError
from .vars import suggest

TYPES = ("duckdb", "spark")
DEFAULT = "duckdb"


@dataclass(frozen=True)
class Target:
    """A named target: its engine type and its settings (for Spark, the spark.* conf and fbt's own)."""

    name: str = DEFAULT
    type: str = DEFAULT
    settings: dict[str, Any] = field(default_factory=dict)

    def spark_conf(self) -> dict[str, str]:
        """The settings passed to the Spark session: every spark.* key, master local[*] by default."""
        conf = {"spark.master": "local[*]"} if "spark.remote" not in self.settings else {}
        conf.update({k: str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in self.settings.items() if k.startswith("spark.")})
        return conf


def choose_target(targets: dict[str, Any], name: str | None) -> Target:
    """The target called name (the table's `default`, else duckdb, when None).

    >>> choose_target({}, None)
    Target(name='duckdb', type='duckdb', settings={})
    >>> choose_target({"spark": {"type": "spark", "spark.master": "local[2]"}}, "spark").spark_conf()
    {'spark.master': 'local[2]'}
    """
    tables = {k: v for k, v in targets.items() if isinstance(v, dict)}
    chosen = name or targets.get("default", DEFAULT)
    if chosen not in tables:
        if chosen == DEFAULT:
            return Target()
        raise UsageError(f"--target {chosen}: pyproject.toml [tool.fbt.targets] has no target of that "
                         f"name.{suggest(chosen, tables)} Targets: {', '.join(sorted(tables)) or 'none'}")
    settings = dict(tables[chosen])
    kind = settings.pop("type", chosen)
    if kind not in TYPES:
        raise ProjectError(f"pyproject.toml [tool.fbt.targets.{chosen}] type = {kind!r}: expected one of "
                           f"{', '.join(TYPES)}")
    return Target(chosen, kind, settings)
