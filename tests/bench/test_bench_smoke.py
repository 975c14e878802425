"""Smoke runs of the benchmark scripts (issue 10) at a tiny size: they run, and their JSON holds real,
sane measurements. Not timed tests and not targets: the figures at full size come from make bench.

The five scripts start together (each runs its clients in fresh processes), so the whole smoke
run takes about as long as the slowest one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
DOWNLOAD_MIB = 32
TINY = {
    "import_time": ["--repeat", "2"],
    # 32 MiB, not less: a client's RSS growth carries a constant ~17 MiB (first-request imports; measured on
    # Airflow 3.0.6), so at 4 MiB the streaming hook and the naive client holding the body could not be told
    # apart (17.6 against 15.3 MiB there); at 32 MiB they were 16.7 against 67.7 MiB.
    "download": ["--sizes-mib", str(DOWNLOAD_MIB), "--rounds", "2", "--memory-max-mib", str(DOWNLOAD_MIB), "--no-profile"],
    "parallel_fetch": ["--files", "2", "--file-mib", "1", "--parallel", "1,2", "--rounds", "2"],
    # A 5 s window: the job ended 1 s into it must be noticed before it closes, with 1 s polls, while the
    # other four scripts load both cores (at 2.5 s the alone mode missed it on Airflow 3.0.6 and 3.1.8).
    "waiting": ["--n", "3,6", "--n-alone", "3", "--connections", "2", "--interval", "1", "--window", "5",
                "--finish", "1", "--no-profile"],
    "objstore": ["--size-mib", "4", "--rounds", "1", "--no-profile"],
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-results")
    env = {**os.environ, "DATAPUMP_BENCH_RESULTS": str(out)}
    procs = {name: subprocess.Popen([sys.executable, f"bench/{name}.py", *args], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name, args in TINY.items()}
    logs = {name: proc.communicate(timeout=240)[0] for name, proc in procs.items()}
    return {name: (procs[name].returncode, logs[name], out / f"{name}.json") for name in TINY}


def load(results, name):
    code, log, path = results[name]
    assert code == 0, log[-4000:]
    assert "written to" in log  # the table was printed
    data = json.loads(path.read_text())
    assert data["benchmark"] == name and data["date"]
    assert data["machine"]["cores"] >= 1 and data["machine"]["memory_bytes"] > 0 and data["machine"]["cpu_model"]
    assert data["versions"]["python"] and data["versions"]["airflow"] and data["versions"]["httpx"]
    return data


def test_import_time(results):
    data = load(results, "import_time")
    assert data["median_added_ms"] > 0 and data["median_sdk_ms"] > data["median_added_ms"]
    assert "airflow_provider_datapump.operators.datapump" in data["modules_added"]
    assert data["forbidden_loaded"] == []
    assert data["importtime_top_self"], "the -X importtime breakdown is missing"


def test_download(results):
    data = load(results, "download")
    (size,) = data["sizes"]
    assert size["size_bytes"] == DOWNLOAD_MIB * MiB and set(size["clients"]) == set("ABCDE")
    for kind, client in size["clients"].items():
        assert len(client["runs"]) == 2 and all(r["bytes"] == DOWNLOAD_MIB * MiB for r in client["runs"]), kind
        assert client["median_mb_s"] > 0 and client["median_seconds"] > 0
    # The RSS readings see real allocations: the naive client holds the whole body, ours does not.
    assert size["clients"]["C"]["median_rss_growth_bytes"] >= DOWNLOAD_MIB * MiB
    assert size["clients"]["B"]["median_rss_growth_bytes"] < size["clients"]["C"]["median_rss_growth_bytes"]
    assert size["ratio_B_over_curl"] > 0 and set(size["targets"]) == {
        "B_ratio_ge_0.9", "B_rss_growth_lt_64MiB", "fetch_file_not_halved"}


def test_parallel_fetch(results):
    data = load(results, "parallel_fetch")
    assert data["params"]["total_bytes"] == 2 * MiB
    assert set(data["variants"]) == {"1", "2"}
    for v in data["variants"].values():
        assert len(v["runs"]) == 2 and v["median_seconds"] > 0 and all(r["bytes"] == 2 * MiB for r in v["runs"])
    assert data["speedup_over_first"]["1"] == pytest.approx(1.0)


def test_waiting(results):
    data = load(results, "waiting")
    modes = data["modes"]
    assert set(modes) == {"shared_1conn", "shared_100conn", "alone_1conn"}
    for name, mode in modes.items():
        for n, row in mode["sizes"].items():
            where = (name, n)
            assert row["n"] == int(n) and row["rss_bytes"] > 0 and row["cpu_ms_per_job_minute"] > 0, where
            # Each job ended in the window woke exactly its own trigger, and no other trigger fired.
            assert row["ended"] >= 1 and row["noticed"] == row["ended"] == row["events"], where
            assert row["statuses"] == ["success"] and row["notice_max"] > 0, where
            pm = row["per_minute"]
            assert pm["file"] > 0, where  # an ended job's log was read for its verdict
            if mode["share_polls"]:
                assert pm["list"] > 0 and pm["list_walks"] > 0, where
                assert row["watchers"] == row["connections"], where  # one watcher per connection
            else:
                assert pm["list"] == 0 and pm["detail"] > 0 and row["watchers"] == 0, where
                assert row["min_detail_gap"] >= 1.0 * 0.98, where  # never faster than the interval
    assert modes["shared_100conn"]["sizes"]["6"]["connections"] == 2
    assert modes["shared_1conn"]["sizes"]["6"]["connections"] == 1
    assert "marginal_rss_mb_per_job" in modes["shared_1conn"] and "marginal_rss_mb_per_job" not in modes["alone_1conn"]
    assert data["targets"] and all(isinstance(v, bool) for v in data["targets"].values())
    poke = data["poke_worker"]
    assert poke["processes"] == 2 and poke["pokes_seen"] >= 2
    assert poke["pss_sum"] <= poke["rss_sum"] and poke["rss_sum"] > 50 * MiB


def test_profile_summarizes_py_spy(tmp_path):
    """What names a missed target's cause: py-spy's samples folded by marker."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from _common import profile
    finally:
        sys.path.remove(str(ROOT / "bench"))
    code = "import hashlib\ndef spin():\n    for _ in range(400): hashlib.sha256(bytes(1 << 20)).digest()\nspin()\n"
    (tmp_path / "spin.py").write_text(code)
    # The focus names the function's frame, not the file: samples taken while the module itself
    # runs (before and after spin()) carry "spin.py" but not "spin (", and made the share 0.97.
    result = profile([sys.executable, str(tmp_path / "spin.py")], env=dict(os.environ), focus="spin (",
                     markers={"spin": "spin (", "nothing": "no-such-frame"})
    if "error" in result and "ptrace" in result["error"].lower():
        pytest.skip(f"py-spy cannot attach here: {result['error'][:200]}")
    assert result["samples"] > 0, result
    assert result["share"] == {"spin": 1.0, "nothing": 0.0}
    assert result["top_self_frames"] and "spin (" in result["top_self_frames"][0]["frame"], result


def test_objstore(results):
    data = load(results, "objstore")
    assert data["params"]["size_bytes"] == 4 * MiB and data["params"]["stores"] == ["s3", "gcs", "azure"]
    for kind, store in data["stores"].items():
        if "unavailable" in store:
            assert "make " in store["unavailable"], store  # names the command that installs it
            continue
        for variant in ("fetch", "client"):
            (run,) = store[variant]["runs"]
            assert run["bytes"] == 4 * MiB and run["seconds"] > 0 and run["rss_growth"] > 0, (kind, variant)
        assert store["ratio"] == pytest.approx(store["fetch"]["median_seconds"] / store["client"]["median_seconds"])
        assert store["fetch_part_bytes"] >= 5 * MiB and len(store["fetch"]["load_1min"]) == 1
        assert store["target_met"] == (store["ratio"] <= data["params"]["target_ratio"])
    if any("ratio" in s for s in data["stores"].values()):
        assert data["load_1min"]["max"] >= data["load_1min"]["min"] >= 0
    if all("unavailable" in s for s in data["stores"].values()):
        pytest.skip("no store server could start: " + "; ".join(s["unavailable"] for s in data["stores"].values()))
