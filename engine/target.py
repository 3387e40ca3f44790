"""Targets, as in dbt: the engine a project's models run on, from pyproject.toml's [tool.fbt.targets].

`duckdb` (the default) is embedded: nothing to start, no Java. `spark` runs the same models on Apache
Spark (engine/spark.py): master local[*] unless the target names one (`"spark.master"`, or
`"spark.remote"` for a Spark Connect URL); every other `spark.*` key is passed to the session as it
is. A spark target's `schema` keeps the models as tables of that database of the session's catalog:
the catalog the spark.* keys configure, else a Hive metastore and warehouse of the project's own
(in target/: spark-metastore, spark-warehouse). On either, `max_shard_size` ("500MB") has a file
past that size written as shards (engine/shards.py). Only the target a command names is read, so a
build without --target imports nothing of Spark's."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ProjectError, UsageError
from .shards import SETTING, parse_size
from .vars import suggest

TYPES = ("duckdb", "spark")
DEFAULT = "duckdb"
SETTINGS = {"spark": ("schema", SETTING), "duckdb": (SETTING,)}  # fbt's own keys (besides type, spark.*)


@dataclass(frozen=True)
class Target:
    """A named target: its engine type and its settings (for Spark, the spark.* conf and fbt's own)."""

    name: str = DEFAULT
    type: str = DEFAULT
    settings: dict[str, Any] = field(default_factory=dict)
    home: Path | None = field(default=None, repr=False)  # the project's target dir (a schema's catalog)

    def spark_conf(self) -> dict[str, str]:
        """The settings passed to the Spark session: every spark.* key, master local[*] by default;
        with a schema, a local Spark (master or Connect server) and no catalog named, a Hive
        metastore (Derby) and warehouse in home, so that the tables outlive the session (the
        target's own spark.* keys kept; its driver's Java options, with Derby's log's folder added).

        >>> conf = Target("s", "spark", {"schema": "fbt"}, Path("/p/my target")).spark_conf()
        >>> conf["spark.sql.warehouse.dir"], conf["spark.driver.extraJavaOptions"]
        ('/p/my target/spark-warehouse', "'-Dderby.system.home=/p/my target'")
        """
        conf = {"spark.master": "local[*]"} if "spark.remote" not in self.settings else {}
        conf.update({k: str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in self.settings.items() if k.startswith("spark.")})
        local = conf.get("spark.remote", conf.get("spark.master", "")).startswith("local")
        named = "spark.sql.catalogImplementation" in conf
        if self.settings.get("schema") and self.home and local and not named:
            conf["spark.sql.catalogImplementation"] = "hive"
            conf.setdefault("spark.sql.warehouse.dir", str(self.home / "spark-warehouse"))
            conf.setdefault("spark.hadoop.javax.jdo.option.ConnectionURL",
                            f"jdbc:derby:;databaseName={self.home / 'spark-metastore'};create=true")
            derby = shlex.quote(f"-Dderby.system.home={self.home}")  # (its derby.log)
            options = conf.get("spark.driver.extraJavaOptions", "")
            conf["spark.driver.extraJavaOptions"] = f"{options} {derby}".strip()
        return conf

    def shard_bytes(self) -> int | None:
        """max_shard_size in bytes: a file past it is written as shards (engine/shards.py); None:
        one file, whatever its size."""
        return parse_size(self.settings.get(SETTING), f"pyproject.toml [tool.fbt.targets.{self.name}]")


def choose_target(targets: dict[str, Any], name: str | None, home: Path | None = None) -> Target:
    """The target called name (the table's `default`, else duckdb, when None); home: the project's
    target dir.

    >>> choose_target({}, None)
    Target(name='duckdb', type='duckdb', settings={})
    >>> choose_target({"spark": {"type": "spark", "spark.master": "local[2]"}}, "spark").spark_conf()
    {'spark.master': 'local[2]'}
    """
    tables = {k: v for k, v in targets.items() if isinstance(v, dict)}
    chosen = name or targets.get("default", DEFAULT)
    if chosen not in tables:
        if chosen == DEFAULT:
            return Target(home=home)
        raise UsageError(f"--target {chosen}: pyproject.toml [tool.fbt.targets] has no target of that "
                         f"name.{suggest(chosen, tables)} Targets: {', '.join(sorted(tables)) or 'none'}")
    settings = dict(tables[chosen])
    kind = settings.pop("type", chosen)
    if kind not in TYPES:
        raise ProjectError(f"pyproject.toml [tool.fbt.targets.{chosen}] type = {kind!r}: expected one of "
                           f"{', '.join(TYPES)}")
    for key in settings:
        if not (kind == "spark" and key.startswith("spark.")) and key not in SETTINGS[kind]:
            known = [*SETTINGS[kind], *(["spark.*"] if kind == "spark" else [])]
            raise ProjectError(f"pyproject.toml [tool.fbt.targets.{chosen}] {key}: not a setting of a {kind} "
                               f"target.{suggest(key, SETTINGS[kind])} Settings: "
                               f"{', '.join(known) or 'none'}")
    if not isinstance(settings.get("schema", ""), str) or "." in settings.get("schema", ""):
        raise ProjectError(f"pyproject.toml [tool.fbt.targets.{chosen}] schema = {settings['schema']!r}: "
                           f"expected the name of a database of the Spark catalog, such as \"fbt\"")
    target = Target(chosen, kind, settings, home)
    target.shard_bytes()  # an invalid max_shard_size stops every command, naming the key
    return target
