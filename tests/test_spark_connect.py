"""Parity of the spark target over Spark Connect with duckdb: the same logs built on both, every
model compared row by row and every file byte for byte (tests/test_spark.py's assert_same).

Each Connect build runs the CLI in a process of its own: pyspark keeps one mode a process (a local
Connect server is a classic SparkContext in the client's process, and once a Connect session
exists every session and column pyspark makes is a Connect one), so Connect cannot share this
process with tests/test_spark.py's classic session. The sc:// builds share one Spark Connect
server, started once for the module as a process of its own, as a cluster's would be; its workers
run this Python, which has fbt installed."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, Project, copy_project, record
from faults import spawn, wait_stopped
from test_bad_input import STOPS
from test_spark import EDGE, FORMATS, assert_same, write_logs

CLIENT = ("grpc", "grpc_status", "google.protobuf", "zstandard", "pandas")  # pyspark[connect]


def missing() -> str:
    """What this machine lacks for the tests below, or ''."""
    if shutil.which("java") is None:
        return "no java on PATH (apt-get install openjdk-17-jre-headless)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    lacking = [m for m in CLIENT if importlib.util.find_spec(m) is None]
    return f"Spark Connect's client lacks {', '.join(lacking)} (pip install -e '.[spark]')" if lacking else ""


MISSING = missing()
pytestmark = [pytest.mark.spark, pytest.mark.skipif(bool(MISSING), reason=f"spark connect: {MISSING}")]


def connect_project(root: Path, remote: str, more: str = "") -> Project:
    """The shipped project with a target `connect` whose spark.remote is remote (more: other lines)."""
    project = copy_project(root)
    with (root / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[tool.fbt.targets.connect]\ntype = "spark"\n"spark.remote" = "{remote}"\n'
                f'"spark.sql.shuffle.partitions" = 4\n"spark.sql.session.timeZone" = "UTC"\n{more}')
    return project


def build_connect(project: Project, *args: str) -> subprocess.CompletedProcess:
    """`python cli.py build --target connect ...` in a process of its own."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "--project-dir", str(project.root),
                           "build", "--target", "connect", *args],
                          capture_output=True, text=True, encoding="utf-8", timeout=900, check=False)


def build_both(tmp_path: Path, remote: str, log: str, *args: str,
               more: str = "") -> tuple[Project, Project, str]:
    """The project built on duckdb (here) and over Spark Connect (in a process of its own; more: the
    target's other lines), and what the Connect build printed."""
    duck = copy_project(tmp_path / "duckdb")
    duck.invoke("build", "--feedback-file", str(tmp_path / log), *FORMATS, *args)
    spark = connect_project(tmp_path / "connect", remote, more)
    done = build_connect(spark, "--feedback-file", str(tmp_path / log), *FORMATS, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    return duck, spark, done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The sc:// URL of a Spark Connect server (local[2]) started for this module, stopped after it."""
    import pyspark

    from engine.errors import DatabaseError
    from engine.spark import reach

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = Path(pyspark.__file__).parent
    log = tmp_path_factory.mktemp("connect-server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(home / "bin" / "spark-submit"), "--master", "local[2]",
                                 "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
                                 "--conf", f"spark.connect.grpc.binding.port={port}",
                                 "--conf", f"spark.sql.warehouse.dir={log.parent / 'warehouse'}",
                                 "--conf", "spark.ui.enabled=false"],
                                env={**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable},
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"sc://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                reach("server", url, 1)
                break
            except DatabaseError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Spark Connect server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(60)


def test_edge_cases_build_the_same_over_a_local_connect_server_into_the_projects_catalog(tmp_path):
    """(local[2]: the build's process starts the Connect server and is its client; the models and
    the state are kept as tables of the project's own catalog, target/spark-warehouse)"""
    write_logs(tmp_path, "edge.json", EDGE)
    duck, spark, said = build_both(tmp_path, "local[2]", "logs/edge.json", more='schema = "fbt"\n')
    assert_same(duck, spark)
    run_results = json.loads((spark.root / "target" / "run_results.json").read_text(encoding="utf-8"))
    models = len(run_results["models"])
    assert f"kept {models} model(s) as tables of the Spark catalog's `fbt`" in said
    tables = {p.name for p in (spark.root / "target" / "spark-warehouse" / "fbt.db").iterdir()}
    assert {"training_samples", "feedback_log", "fbt_state__exported_samples"} <= tables
    assert not [t for t in tables if "__fbt_" in t]


def test_a_generated_log_builds_the_same_over_spark_connect(tmp_path, server):
    (tmp_path / "logs").mkdir()
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "3000",
                    str(tmp_path / "logs" / "feedback.json"), "--seed", "17"],
                   check=True, capture_output=True)
    duck, spark, _ = build_both(tmp_path, server, "logs/feedback.json", "--var", "val_ratio=0.2")
    assert_same(duck, spark)
    rejected = duck.query("SELECT count(*) FROM rejected_feedback")[0][0]
    assert rejected > 0, "the generated log has dirty records"


def test_a_log_that_cannot_be_read_stops_spark_connect_with_duckdbs_line(tmp_path, server):
    duck = copy_project(tmp_path / "duckdb")
    duck.write_log(STOPS["duplicate keys"][0])
    said = duck.invoke("build", ok=False)
    spark = connect_project(tmp_path / "connect", server)
    spark.write_log(STOPS["duplicate keys"][0])
    done = build_connect(spark)
    assert (done.returncode, said.exit_code) == (1, 1)
    assert done.stderr == said.stderr.replace(str(duck.root), str(spark.root))
    assert not spark.out.exists()


def test_an_unreachable_spark_connect_server_fails_in_one_line(tmp_path):
    project = connect_project(tmp_path / "proj", "sc://127.0.0.1:1")
    project.write_log(json.dumps(EDGE, ensure_ascii=False))
    result = project.invoke("build", "--target", "connect", ok=False)
    assert result.exit_code == 1
    assert result.stderr == ("Error: --target connect: Spark Connect at sc://127.0.0.1:1 refuses the "
                             "connection; start its server (sbin/start-connect-server.sh) or fix the "
                             "target's spark.remote in pyproject.toml\n")
    assert not project.out.exists()


def test_a_setting_a_running_server_keeps_its_own_stops_the_build_in_one_line(tmp_path, server):
    project = connect_project(tmp_path / "proj", server, '"spark.executor.memory" = "2g"\n')
    project.write_log(json.dumps(EDGE, ensure_ascii=False))
    done = build_connect(project)
    assert done.returncode == 1
    assert done.stderr == (f"Error: --target connect: Spark Connect at {server} keeps its own "
                           f"spark.executor.memory (settings of the server's start, not of a session); "
                           f"set them where the server starts and remove them from the target in "
                           f"pyproject.toml\n")
    assert not project.out.exists()


def reviewed(project: Project, tmp_path: Path) -> tuple[str, Path]:
    """The project built (on duckdb), the first sample awaiting review dropped in a reviewed CSV."""
    project.write_log([record(n, rating=5) for n in range(1, 6)])
    project.invoke("build")
    project.invoke("review", "export", "-o", str(tmp_path / "queue.csv"))
    sample = next(csv.DictReader((tmp_path / "queue.csv").open(encoding="utf-8-sig")))["feedback_id"]
    (tmp_path / "decided.csv").write_text(f"feedback_id,decision\n{sample},drop\n", encoding="utf-8")
    return sample, tmp_path / "decided.csv"


def awaiting(project: Project, tmp_path: Path, *args: str) -> tuple[list[str], str]:
    """The ids `review export` puts up for review, and what it says on stderr."""
    result = project.invoke("review", "export", "-o", str(tmp_path / "again.csv"), *args)
    rows = csv.DictReader((tmp_path / "again.csv").open(encoding="utf-8-sig"))
    return [row["feedback_id"] for row in rows], result.stderr


REFUSED = ("--target connect: Spark Connect at sc://127.0.0.1:1 refuses the connection; start its server "
           "(sbin/start-connect-server.sh) or fix the target's spark.remote in pyproject.toml")


def test_review_with_a_catalog_out_of_reach_uses_the_state_file_and_says_so(tmp_path):
    project = connect_project(tmp_path / "proj", "sc://127.0.0.1:1", 'schema = "fbt"\n')
    sample, decided = reviewed(project, tmp_path)
    before, _ = awaiting(project, tmp_path)
    result = project.invoke("review", "import", str(decided), "--target", "connect")
    assert "drop 1;" in result.stdout and "kept in" not in result.stdout
    assert result.stderr == (f"warning: {REFUSED}; the decisions are in data/fbt_state.duckdb, not yet in "
                             f"the catalog: the next build with --target connect puts them there\n")
    ids, said = awaiting(project, tmp_path, "--target", "connect")
    assert ids == [i for i in before if i != sample] and sample in before
    assert said == (f"warning: {REFUSED}; the CSV leaves out the decisions of data/fbt_state.duckdb only: "
                    f"a sample decided on another driver since this one last built may be in it again\n")


def test_an_import_interrupted_on_its_way_to_the_catalog_says_the_file_has_the_decisions(tmp_path):
    """Ctrl-C while the import waits for a Spark Connect server that does not answer: exit 130, and
    the line says where the decisions are (stored: the next export leaves the sample out)."""
    with socket.socket() as silent:  # (accepts the connection, never answers)
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(120)
        project = connect_project(tmp_path / "proj", f"sc://127.0.0.1:{silent.getsockname()[1]}",
                                  'schema = "fbt"\n')
        sample, decided = reviewed(project, tmp_path)
        importing = spawn(project, "review", "import", str(decided), "--target", "connect")
        connection, _ = silent.accept()  # (the import is reaching the server)
        importing.send_signal(signal.SIGINT)
        _, err = importing.communicate(timeout=120)
        connection.close()
    assert importing.returncode == 130
    # (the last line: gRPC's connecting thread may print a traceback of its own before it)
    said = err.splitlines()[-1]
    assert said == ("Error: interrupted (Ctrl-C); the decisions are in data/fbt_state.duckdb, not yet in the "
                    "catalog: the next build with --target connect puts them there")
    assert sample not in awaiting(project, tmp_path)[0]


def test_two_clients_of_one_server_write_its_schema_one_at_a_time(tmp_path, server):
    """Two drivers (projects) of one log building into one schema of a Connect server: while one
    builds (stopped here after its models), the other stops in one line naming it; then it builds."""
    write_logs(tmp_path, "feedback.json", EDGE)
    log = str(tmp_path / "logs" / "feedback.json")
    first, second = (connect_project(tmp_path / name, server, 'schema = "shared"\n') for name in ("a", "b"))
    building = spawn(first, "build", "--target", "connect", "--feedback-file", log, pause_at="models-built")
    try:
        wait_stopped(building)
        refused = build_connect(second, "--feedback-file", log)
    finally:
        if building.returncode is None:  # (stopped: wait_stopped reaped it when it ended instead)
            os.kill(building.pid, signal.SIGCONT)
        out, err = building.communicate(timeout=600)
    assert building.returncode == 0, err[-3000:]
    assert "as tables of the Spark catalog's `shared`" in out
    assert refused.returncode == 1
    holder = f"(host {socket.gethostname()}, pid {building.pid}, since "
    assert refused.stderr.startswith(f"Error: schema shared: another build writes it {holder}")
    assert refused.stderr.endswith("; wait for it to end, or, if it no longer runs, drop view "
                                   "shared.fbt_lock and build again\n")
    assert not second.out.exists()
    done = build_connect(second, "--feedback-file", log)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in second.out.iterdir()) == sorted(p.name for p in first.out.iterdir())
    assert (second.out / "high_quality_samples.jsonl").read_bytes() == \
        (first.out / "high_quality_samples.jsonl").read_bytes()
