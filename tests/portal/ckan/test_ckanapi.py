"""Contract tests: the real ckanapi client and command line against the real app under uvicorn."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, SearchQueryError, ValidationError

from tests.portal.ckan.conftest import Catalog, LiveServer, populate

VENV_BIN = Path(sys.executable).parent
CKANAPI = VENV_BIN / "ckanapi"
DADOS = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "ckan-api-responses" / "dados-gov-br"
)


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ckanapi command line (its workers are `ckanapi` processes found on PATH)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(CKANAPI), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.fixture
def live(live_server: LiveServer) -> tuple[LiveServer, Catalog]:
    """The live server over the populated test catalog."""
    return live_server, populate(live_server.engine)


def test_remote_ckan_reads_and_errors(live: tuple[LiveServer, Catalog]) -> None:
    server, cat = live
    anon = RemoteCKAN(server.url)
    result = anon.action.package_search(
        q="*:*", fq="organization:jtt", sort="name asc", **{"facet.field": ["tags"]}
    )
    assert [p["name"] for p in result["results"]] == ["bus-lines", "taxi-trips"]
    assert result["facets"]["tags"]["交通"] == 2
    assert anon.action.package_show(id="bus-lines")["organization"]["name"] == "jtt"
    assert sorted(anon.action.package_list()) == cat.public
    with pytest.raises(NotFound):
        anon.action.package_show(id=cat.draft)
    with pytest.raises(SearchQueryError):
        anon.action.package_search(fq="-tags:x")
    with pytest.raises(NotAuthorized):
        anon.action.package_create(name="nope-1", owner_org="jtt")
    editor = RemoteCKAN(server.url, apikey=cat.editor)
    assert editor.action.package_show(id=cat.draft)["private"] is True
    with pytest.raises(ValidationError) as info:
        editor.action.package_create(name="bus-lines", owner_org="jtt")
    assert "name" in info.value.error_dict
    with pytest.raises(NotAuthorized):
        RemoteCKAN(server.url, apikey=cat.outsider).action.package_create(name="nope-2", owner_org="jtt")
    # GET-only clients (ckanapi get_only) read the same.
    getter = RemoteCKAN(server.url, get_only=True)
    assert getter.action.package_search(fq='tags:"公交"')["count"] == 1


def test_remote_ckan_writes_round_trip_and_upload(live: tuple[LiveServer, Catalog]) -> None:
    server, cat = live
    ckan = RemoteCKAN(server.url, apikey=cat.admin)
    pkg = {
        "name": "parking-lots",
        "title": "停车场",
        "owner_org": "jtt",
        "notes": "全省停车场",
        "tags": [{"name": "停车"}],
        "extras": [{"key": "来源", "value": "交通厅"}],
        "grade": "general_1",
        "open_type": "unconditional",
        "private": False,
        "resources": [{"name": "链接", "url": "https://example.org/p.csv", "format": "CSV"}],
    }
    created = ckan.action.package_create(**pkg)
    assert created == ckan.action.package_show(id=created["id"])
    assert created["private"] is False and created["extras"] == [{"key": "来源", "value": "交通厅"}]
    body = "名称,车位\n西湖停车场,120\n".encode()
    res = ckan.action.resource_create(
        package_id="parking-lots", name="车位表", format="CSV", upload=("车位.csv", io.BytesIO(body))
    )
    assert res["url_type"] == "upload" and res["size"] == len(body)
    assert res["url"].startswith(server.url)
    import requests

    download = requests.get(res["url"], timeout=10)
    assert download.status_code == 200 and download.content == body  # public, unconditional: anyone
    patched = ckan.action.package_patch(id="parking-lots", notes="更新")
    assert patched["notes"] == "更新" and patched["num_resources"] == 2
    ckan.action.resource_delete(id=res["id"])
    assert ckan.action.package_show(id="parking-lots")["num_resources"] == 1
    token = ckan.action.api_token_create(user="boss", name="cli")["token"]
    assert RemoteCKAN(server.url, apikey=token).action.package_show(id=cat.draft)["name"] == cat.draft
    ckan.action.api_token_revoke(token=token)
    with pytest.raises(NotAuthorized):
        RemoteCKAN(server.url, apikey=token).action.package_show(id=cat.draft)


def test_ckanapi_command_line(live: tuple[LiveServer, Catalog], tmp_path: Path) -> None:
    server, cat = live
    run = _cli("action", "package_search", "-r", server.url, "q=公交", 'facet.field:["organization"]')
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert [p["name"] for p in out["results"]] == ["bus-lines"] and out["facets"]["organization"] == {
        "jtt": 1
    }
    run = _cli("search", "datasets", "-r", server.url, "fq=organization:jtt")
    assert run.returncode == 0, run.stderr
    assert sorted(json.loads(line)["name"] for line in run.stdout.splitlines()) == ["bus-lines", "taxi-trips"]
    dump = tmp_path / "dump.jsonl"
    run = _cli("dump", "datasets", "--all", "-r", server.url, "-O", str(dump))
    assert run.returncode == 0, run.stderr
    dumped = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert sorted(p["name"] for p in dumped) == cat.public
    # Load the dump back, renamed, as new packages of the same agencies (via owner_org ids).
    renamed = tmp_path / "renamed.jsonl"
    with renamed.open("w", encoding="utf-8") as f:
        for pkg in dumped:
            copy = {**pkg, "name": pkg["name"] + "-copy", "id": None}
            f.write(json.dumps(copy, ensure_ascii=False) + "\n")
    run = _cli("load", "datasets", "-I", str(renamed), "-r", server.url, "-a", cat.sysadmin)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.count(" create None ") == len(dumped)
    ckan = RemoteCKAN(server.url, apikey=cat.sysadmin)
    for pkg in dumped:
        copy = ckan.action.package_show(id=pkg["name"] + "-copy")
        assert copy["title"] == pkg["title"] and copy["organization"]["name"] == pkg["organization"]["name"]
        assert [r["url"] for r in copy["resources"]] == [r["url"] for r in pkg["resources"]]
    # Loading the same file again updates in place (package_show finds them by name).
    run = _cli("load", "datasets", "-I", str(renamed), "-r", server.url, "-a", cat.sysadmin)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.count(" update None ") == len(dumped)


def _dados_file(tmp_path: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    source = DADOS / "datasets_800.jsonl.gz"
    if not source.is_file():
        pytest.skip(f"shared test data not found at {source}")
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        packages = [json.loads(line) for line in lines]
    datasets = tmp_path / "datasets.jsonl"
    datasets.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in packages), encoding="utf-8")
    orgs = {p["organization"]["id"]: p["organization"] for p in packages}
    organizations = tmp_path / "organizations.jsonl"
    organizations.write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orgs.values()), encoding="utf-8"
    )
    return organizations, datasets, packages


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_load_800_dados_gov_br_packages(live_server: LiveServer, tmp_path: Path) -> None:
    """`ckanapi load` of a real portal's dump runs clean, and every package is then shown."""
    cat = populate(live_server.engine)
    organizations, datasets, packages = _dados_file(tmp_path)
    url = live_server.url
    # `ckanapi load datasets` does not create organizations: load them first, keeping their ids.
    run = _cli("load", "organizations", "-I", str(organizations), "-r", url, "-a", cat.sysadmin, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    run = _cli("load", "datasets", "-I", str(datasets), "-r", url, "-a", cat.sysadmin, "-p", "3", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count(" create None ") == len(packages) == 800
    ckan = RemoteCKAN(url, apikey=cat.sysadmin)
    for pkg in packages:
        shown = ckan.action.package_show(id=pkg["id"])
        assert shown["name"] == pkg["name"] and shown["title"] == pkg["title"]
        assert shown["organization"]["id"] == pkg["owner_org"]
        assert shown["num_resources"] == len(pkg["resources"])
        assert shown["license_id"] == (pkg["license_id"] or None)
    listed = ckan.action.package_list(include_private=True)
    assert set(listed) >= {p["name"] for p in packages}
    harvested = ckan.action.package_search(fq="organization:ministerio-da-economia-me", include_private=True)
    assert harvested["count"] == sum(
        p["organization"]["name"] == "ministerio-da-economia-me" for p in packages
    )
