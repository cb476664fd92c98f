"""`y` copies: through $BT_TUI_CLIPBOARD when set (a command that reads the text on stdin);
else by OSC 52, which a terminal (or tmux's default `set-clipboard external`) may ignore, so
the text is also saved to a file and the notice says so. Never "copied" when nothing was."""

from __future__ import annotations

import json
import stat

import pytest

from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    quick_pilot,
    sample_roots,
    settle,
    tui_env,
    wait_for,
    wait_rows,
)


@pytest.fixture
def app(demo_db, tui_env):
    return make_app(demo_db)


def script(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def test_y_pipes_to_the_clipboard_command(app, tmp_path, monkeypatch):
    got = tmp_path / "clip.txt"
    cmd = script(tmp_path, "clip.sh", f'cat > "{got}"\n')
    monkeypatch.setenv("BT_TUI_CLIPBOARD", f"{cmd} --selection clipboard")
    osc: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", osc.append)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("j", "y")
        await wait_for(pilot, lambda: any("copied" in n for n in notifications(app)), "the notice")
        [notice] = [n for n in notifications(app) if "copied" in n]
        assert f"via {cmd} --selection clipboard" in notice and "OSC 52" not in notice
    assert json.loads(got.read_text(encoding="utf-8")) == sample_roots()[1]
    assert osc == []  # the command did it


async def test_a_failing_clipboard_command_never_says_copied(app, tmp_path, monkeypatch):
    cmd = script(tmp_path, "broken.sh", 'echo "Error: Can\'t open display" >&2\nexit 1\n')
    monkeypatch.setenv("BT_TUI_CLIPBOARD", str(cmd))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_rows(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: any("not copied" in n for n in notifications(app)), "the notice")
        [notice] = notifications(app)
        assert not notice.startswith("copied") and "Can't open display" in notice
        saved = notice.split("saved to ", 1)[1].split(")")[0].split(";")[0].strip()
        assert json.loads(open(saved, encoding="utf-8").read()) == sample_roots()[0]


async def test_without_a_command_osc52_and_a_file_and_the_notice_says_so(app, tmp_path, monkeypatch):
    osc: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", osc.append)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
        await settle(pilot)
        await pilot.press("y", "2")  # this span as Markdown
        await wait_for(pilot, lambda: any("copied" in n for n in notifications(app)), "the notice")
        [notice] = notifications(app)
        path = tmp_path / "cache" / "bt-tui" / "clipboard.txt"
        assert notice == (f"copied via OSC 52 (your terminal may ignore it; also saved to {path};"
                          " set BT_TUI_CLIPBOARD to pipe to a command)")
        assert path.read_text(encoding="utf-8") == osc[0]
        assert osc[0].startswith("### support_request (task)")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a copy may hold private data
