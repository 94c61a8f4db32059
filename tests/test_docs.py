"""The README documents every setting and opens with the two commands."""

from __future__ import annotations

from tests.conftest import REPO


def test_readme_lists_every_setting() -> None:
    from portal.settings import SETTINGS_CLASSES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    names = [
        f"{cls.model_config['env_prefix']}{name}".upper()
        for cls in SETTINGS_CLASSES
        for name in cls.model_fields
    ]
    missing = [n for n in names if f"`{n}`" not in readme]
    assert missing == []


def test_quickstart_is_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["make run", "make test"]
