"""The spark target's schema (tests/spark_catalog.py), in a pytest process of its own: a Spark
session's catalog is fixed when it starts, and this process's spark tests start one without a Hive
metastore. Skipped, saying why, where Java or pyspark is missing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.project import load_project

from conftest import ROOT
from test_spark import MISSING

pytestmark = [pytest.mark.spark, pytest.mark.skipif(bool(MISSING), reason=f"spark target: {MISSING}")]


def test_the_models_are_kept_as_tables_of_a_catalog_that_outlives_the_build(tmp_path):
    project = tmp_path / "proj"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                          "tests/spark_catalog.py"], cwd=ROOT, capture_output=True, text=True, check=False,
                         env={**os.environ, "FBT_CATALOG_PROJECT": str(project)})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "16 passed" in run.stdout, run.stdout[-2000:]
    # Another process, a new Spark session on the project's metastore, finds the last build's table.
    conf = load_project(project, target="tables").target.spark_conf()
    read = ("from pyspark.sql import SparkSession\nb = SparkSession.builder\n"
            + "".join(f"b = b.config({k!r}, {v!r})\n" for k, v in conf.items())
            + "print(b.getOrCreate().table('fbt.training_samples').count())")
    out = subprocess.run([sys.executable, "-c", read], capture_output=True, text=True, check=False,
                         cwd=tmp_path)
    assert out.stdout.strip() == "19", out.stderr[-2000:]  # 20 samples, one dropped in review (the last test)
