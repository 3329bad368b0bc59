"""The command line as a user meets it: exit codes and one readable sentence per mistake."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
from openpyxl import Workbook

from simulator.directory_entries import entry
from simulator.harness import neighbourhood as people
from tests.support.broker import free_port
from tests.support.deployment import REPO, Deployment
from tests.support.waiting import until


def callwatch(*arguments: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *arguments], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


def assert_one_sentence_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in expected:
        assert fragment in lines[0], lines[0]


def test_example_config_and_directory_check_out() -> None:
    result = callwatch("check-config", "config/callwatch.example.toml")
    assert result.returncode == 0, result.stderr
    assert "directory OK (2 areas, 2 residents, 2 devices, 5 volunteers, 1 policies)" in result.stdout


def test_unknown_key_in_config_exits_1_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "cw.toml"
    config.write_text('[mqtt]\nurl = "mqtt://127.0.0.1:1883"\nkeep_alive = 30\n')
    assert_one_sentence_error(callwatch("check-config", str(config)), str(config), "[mqtt] keep_alive")


def test_bad_directory_entry_exits_1_naming_entry_and_key(tmp_path: Path) -> None:
    directory = tmp_path / "directory.toml"
    text = (REPO / "config" / "directory.example.toml").read_text()
    directory.write_text(text.replace('area = "hexi-1"\nphone', 'area = "nowhere"\nphone'))
    config = tmp_path / "cw.toml"
    config.write_text(f'[directory]\nfile = "{directory}"\n')
    assert_one_sentence_error(
        callwatch("check-config", str(config)), str(directory), 'residents[1] (id "r-0002"): area "nowhere"'
    )
    # in tmp_path: the config's default database (callwatch.db, relative) must not land in the checkout
    assert_one_sentence_error(callwatch("run", "--config", str(config), cwd=tmp_path), 'area "nowhere"')


def test_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "cw.toml"
    config.write_text(f'[database]\nurl = "postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"\n')
    assert_one_sentence_error(
        callwatch("alerts", "--config", str(config), "--json"), "[database] url: cannot open", "check that"
    )


def test_import_is_idempotent(deployment: Deployment) -> None:
    first = deployment.cli("import", str(deployment.directory_path), "--config", str(deployment.config_path))
    second = deployment.cli("import", str(deployment.directory_path), "--config", str(deployment.config_path))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "devices: 2 added, 0 changed, 0 unchanged" in first.stdout
    assert "devices: 0 added, 0 changed, 2 unchanged" in second.stdout
    assert "volunteers: 0 added, 0 changed, 4 unchanged" in second.stdout


def test_import_prune_lists_whom_it_retires_and_asks_first(deployment: Deployment) -> None:
    config = str(deployment.config_path)
    assert deployment.cli("import", str(deployment.directory_path), "--config", config).returncode == 0
    without_zhang_wei = deployment.folder / "without-zhang-wei.toml"
    without_zhang_wei.write_text(
        deployment.directory_path.read_text(encoding="utf-8").replace(entry("volunteers", **people.ZHANG_WEI), ""),
        encoding="utf-8",
    )
    file = str(without_zhang_wei)

    dry = deployment.cli("import", file, "--config", config, "--prune", "--dry-run")
    declined = deployment.cli("import", file, "--config", config, "--prune", typed="n\n")
    confirmed = deployment.cli("import", file, "--config", config, "--prune", typed="y\n")
    again = deployment.cli("import", file, "--config", config, "--prune", "--yes")

    assert dry.returncode == 0, dry.stderr
    assert "a dry run, nothing was written" in dry.stdout
    assert "volunteers retired: v-2 (Zhang Wei, volunteer)" in dry.stdout  # and still there to ask about below
    assert declined.returncode == 1, declined.stderr
    assert "retires, never to be asked, supervised or let in again:\n  volunteers: v-2 (Zhang Wei, volunteer)\n" in (
        declined.stdout
    )
    assert "not imported, nothing was changed" in declined.stdout
    assert confirmed.returncode == 0, confirmed.stderr
    assert "volunteers retired: v-2 (Zhang Wei, volunteer)" in confirmed.stdout
    assert again.returncode == 0 and "retire" not in again.stdout  # already retired: nothing to ask or do


def without_zhang_wei(deployment: Deployment) -> str:
    """The deployment's directory file without volunteer v-2 (Zhang Wei), written beside it."""
    file = deployment.folder / "without-zhang-wei.toml"
    file.write_text(
        deployment.directory_path.read_text(encoding="utf-8").replace(entry("volunteers", **people.ZHANG_WEI), ""),
        encoding="utf-8",
    )
    return str(file)


async def test_import_reassign_hands_a_retired_volunteers_alert_back_to_the_running_monitor(
    deployment: Deployment,
) -> None:
    config, file = str(deployment.config_path), without_zhang_wei(deployment)
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)  # tier 1: Li Ming and Zhang Wei
        assert await deployment.sandbox.phone(people.TIER1[1]).reply("ACK") == 200
        await deployment.sandbox.wait_for_messages(1, to=people.TIER1[0], body_contains="Zhang Wei")

        refused = await asyncio.to_thread(deployment.cli, "import", file, "--config", config, "--prune", "--yes")
        handed = await asyncio.to_thread(
            deployment.cli, "import", file, "--config", config, "--prune", "--yes", "--reassign"
        )
        [asked] = await deployment.sandbox.wait_for_messages(1, to=people.TIER2, timeout=10)

    assert_one_sentence_error(refused, 'volunteer "v-2" (Zhang Wei) still holds alert 1 (acknowledged)', "--reassign")
    assert handed.returncode == 0, handed.stderr
    assert "volunteers retired: v-2 (Zhang Wei, volunteer)" in handed.stdout
    assert "alerts handed back to escalation: 1" in handed.stdout
    assert "王秀英" in asked.body  # the area leader is asked now, not a tier timeout later


async def test_unreachable_broker_is_reported_and_retried_not_fatal(deployment: Deployment) -> None:
    deployment.broker = type(deployment.broker)("127.0.0.1", free_port(), deployment.folder / "no-broker")
    deployment.write_files()
    process = subprocess.Popen(  # noqa: ASYNC220 - only spawns the real process under test
        [sys.executable, "-m", "monitor", "run", "--config", str(deployment.config_path)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with httpx.AsyncClient() as client:

            async def broker_reported() -> dict[str, object] | None:
                try:
                    answer = await client.get(f"{deployment.web_url}/healthz")
                except httpx.HTTPError:
                    return None  # not listening yet
                broker: dict[str, object] = answer.json()["components"]["broker"]
                # "starting" until the first connection attempt has failed
                return broker if answer.status_code == 503 and broker["detail"] != "starting" else None

            broker = await until(broker_reported, within_s=20, what="the broker reported unreachable")
        assert broker["ok"] is False and "cannot reach the MQTT broker" in str(broker["detail"])
        assert str(deployment.config_path) in str(broker["detail"])
    finally:
        process.terminate()
        _, log = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in log


def test_import_prune_of_a_volunteers_workbook_retires_the_two_it_no_longer_lists(deployment: Deployment) -> None:
    """An .xlsx of the section's volunteers (Chinese names, phones Excel turned into numbers) with
    --prune: the dry run lists the two it leaves out, --yes retires them, and again changes nothing;
    residents, which the workbook is not about, are never pruned."""
    config = str(deployment.config_path)
    assert deployment.cli("import", str(deployment.directory_path), "--config", config).returncode == 0
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (
        ["id", "name", "phone", "areas", "language", "role"],
        ["v-1", "Li Ming", 8613900000001, "a-1", "zh", "volunteer"],
        [],
        ["duty-1", "Duty Desk", "+8613900000100", None, "zh", "staff"],
        ["v-30", "李娜", 13800138030, "a-1", "zh", "volunteer"],
    ):
        sheet.append(row)
    workbook = deployment.folder / "志愿者名单.xlsx"
    book.save(workbook)
    file = str(workbook)

    unnamed = deployment.cli("import", file, "--config", config, "--prune", "--dry-run")
    dry = deployment.cli("import", file, "--config", config, "--section", "volunteers", "--prune", "--dry-run")
    pruned = deployment.cli("import", file, "--config", config, "--section", "volunteers", "--prune", "--yes")
    again = deployment.cli("import", file, "--config", config, "--section", "volunteers", "--prune", "--yes")

    assert unnamed.returncode == 1 and "志愿者名单.xlsx: which entries does it hold? Give --section" in unnamed.stderr
    assert dry.returncode == 0, dry.stderr
    retired = "volunteers retired: v-2 (Zhang Wei, volunteer), v-9 (Chen Jing, leader)"
    assert "a dry run, nothing was written" in dry.stdout and retired in dry.stdout
    assert "volunteers: 1 added, 0 changed, 2 unchanged" in dry.stdout
    assert pruned.returncode == 0 and retired in pruned.stdout, pruned.stderr
    assert "residents retired" not in pruned.stdout
    assert again.returncode == 0 and "retired" not in again.stdout
    assert "volunteers: 0 added, 0 changed, 3 unchanged" in again.stdout


def test_import_of_a_gbk_csv_with_two_bad_rows_names_both_and_imports_nothing(deployment: Deployment) -> None:
    config = str(deployment.config_path)
    assert deployment.cli("import", str(deployment.directory_path), "--config", config).returncode == 0
    csv_file = deployment.folder / "callwatch-residents.csv"  # named as the console's export: no --section
    csv_file.write_bytes(
        "id,name,address,area,phone\n"
        "r-50,刘芳,5栋2单元301,a-1,13800138050\n"
        "r-51,陈静怡,7栋1单元102,nowhere,\n"
        "\n"
        "r-52,赵敏,9栋,a-1,12345\n".encode("gbk")
    )
    dry = deployment.cli("import", str(csv_file), "--config", config, "--dry-run")
    real = deployment.cli("import", str(csv_file), "--config", config)
    after = deployment.cli("import", str(deployment.directory_path), "--config", config, "--dry-run")

    for refused in (dry, real):
        assert refused.returncode == 1
        assert refused.stderr.count("callwatch-residents.csv: row ") == 2, refused.stderr
        assert 'row 3 (id "r-51"), column area: area "nowhere" does not exist; add it or fix the id.' in refused.stderr
        assert 'row 5 (id "r-52"), column phone: must be an international number' in refused.stderr
    assert "residents: 0 added, 0 changed, 2 unchanged" in after.stdout  # r-50 was not imported either
