"""`cupola console` in-process: the real bot on a sandbox, driven line by line as a person types."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bench.synthetic_images import make_jpeg
from bot.config import load_settings
from bot.console import Console, console_session
from bot.core import Cupola
from tests.feeds.feedserver import Album, FeedServer, media_rss


class Transcript:
    """Everything the console printed, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        self.lines.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def since(self, mark: int) -> str:
        return "\n".join(self.lines[mark:])


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[tuple[Console, Cupola, Transcript]]:
    env = {
        "CUPOLA_PATHS_DATA_DIR": str(tmp_path / "data"),
        "CUPOLA_NET_ALLOW_PRIVATE_ADDRESSES": "true",  # the feed and its pictures are on 127.0.0.1
        "CUPOLA_FEEDS_POLL_INTERVAL_SECONDS": "1",
    }
    transcript = Transcript()
    async with console_session(load_settings(None, env=env), emit=transcript) as (console, bot):
        yield console, bot, transcript


async def typed(console: Console, transcript: Transcript, line: str) -> str:
    """Type ``line``; the console's own answer and everything the bot showed meanwhile."""
    mark = len(transcript.lines)
    answer = await console.handle(line)
    return transcript.since(mark) + ("\n" + answer if answer else "")


async def test_the_console_shows_every_post_of_a_first_hour(session, tmp_path: Path) -> None:
    console, _, transcript = session
    sandbox = console.sandbox

    # The photo of the day: the confirmation, then the post itself in #photos, marked with its channel.
    out = await typed(console, transcript, "/potd set channel: #photos time: 08:30")
    assert "── Cupola in #general (only you can see this) ──" in out
    assert "The photo of the day will be posted in #photos every day at 08:30 (UTC)" in out
    out = await typed(console, transcript, "/potd now")
    assert "── Cupola in #general (only you can see this) ── is thinking…" in out
    assert "── Cupola in #photos ──\n┌ Photo of the day" in out
    assert "│ • Credit: NASA" in out
    assert "Posted photo #" in out

    # A watched feed on 127.0.0.1 publishes an album: the announcement appears when the bot posts it.
    feeds = FeedServer()
    server = TestServer(feeds.app(), host="127.0.0.1")
    await server.start_server()
    feeds.server = server
    try:
        feeds.image("/p1.jpg", make_jpeg(800, 600, seed=1))
        feeds.feed("/albums.xml", media_rss([Album(1)]))
        out = await typed(console, transcript, f"/feed watch url: {feeds.url('/albums.xml')} channel: photos")
        assert "Expedition 72 albums" in out
        channel = next(c for c in console.guild.channels.values() if c.name == "photos")
        before = len(sandbox.channel_messages(channel))
        mark = len(transcript.lines)
        album = Album(
            2, title="Aurora over the Pacific", credit="NASA/Loral O'Hara", images=[feeds.url("/p1.jpg")]
        )
        feeds.feed("/albums.xml", media_rss([Album(1), album]))
        await sandbox.wait_until(lambda: len(sandbox.channel_messages(channel)) > before, timeout=60)
        shown = transcript.since(mark)
        assert "── Cupola in #photos ──" in shown
        assert "┌ Aurora over the Pacific" in shown
        assert "📎 preview." in shown and "saved to" in shown
    finally:
        await server.close()

    # An article imported by an admin: progress first, then the summary as an edit of the same reply.
    article = tmp_path / "zarya.md"
    article.write_text(
        "---\ntitle: Zarya at twenty-five\ndate: 2023-11-20\n---\n\n"
        "Zarya was the first module of the station. It was launched on 20 November 1998.\n"
    )
    out = await typed(console, transcript, f"/admin article import file: {article}")
    assert "is thinking…" in out
    assert "(only you can see this) (edited) ──" in out
    assert "Zarya at twenty-five" in out

    # An admin command tried as a plain member: Discord would hide it; the bot refuses it itself.
    assert "a member" in await console.handle("as member")
    out = await typed(console, transcript, "/admin audit")
    assert "Discord hides /admin from members" in out
    assert "Only server admins (Manage Server permission) can use this command." in out
    assert "an admin" in await console.handle("as admin")
    out = await typed(console, transcript, "/admin audit")
    assert "article import" in out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/iss ask q: how high is the ISS", "/iss ask has no option q: (its options: question:)"),
        ("/potd set channel: nochannel time: 08:30", "channel: there is no channel nochannel on this server"),
        ("/potd set chanel: photos time: 08:30", "has no option chanel:"),
        ("/admin", "/admin needs a sub-command: /admin article import, /admin article remove"),
        ("/admin photo", "/admin photo needs a sub-command: /admin photo add, /admin photo remove"),
        ("/admin bogus", "/admin has no sub-command 'bogus'"),
        ("/iss ask question: " + "x" * 5000, "question: at most 300 characters (this is 5000)"),
        (
            "/admin content list kind: bogus",
            "kind: 'bogus' is not one of the choices: article, photo, fact, crew",
        ),
        ("/photo credits page: 0", "page: must be between 1 and"),
        ("/photo credits page: two", "page: 'two' is not a whole number"),
        ("/potd set time: 08:30", "/potd set needs channel: (The channel to post in)"),
        ("/feed watch url: https://example.org/f.xml role: @nobody", "role: there is no role @nobody"),
        (
            "/admin photo add caption: c credit: c image: /no/such/file.jpg",
            "image: no file at /no/such/file.jpg",
        ),
        ("/abot", "unknown command /abot; type `help` for the list. Did you mean /about?"),
    ],
)
async def test_input_is_checked_like_discords_client(session, line: str, expected: str) -> None:
    console, _, _ = session
    calls = len(console.sandbox.interactions)
    answer = await console.handle(line)
    assert expected in answer
    assert answer.startswith("⚠ ")
    assert len(console.sandbox.interactions) == calls  # nothing reached the bot


async def test_help_lists_sub_commands_and_one_commands_options(session) -> None:
    console, _, _ = session
    overview = await console.handle("help")
    assert "/admin photo add caption: credit: [image:] [url:] [photographer:]" in overview
    assert "/iss ask question:" in overview and "(admins)" in overview
    detail = await console.handle("help /admin photo add")
    assert "caption: (text, required, 1–1000 characters) What the picture shows" in detail
    assert "image: (file path, optional) The picture as an attachment" in detail
    assert "admins only" in detail
    assert "one of: article, photo, fact, crew" in await console.handle("help /admin content list")
    assert "/admin photo add" in await console.handle("help /admin")


async def test_tab_completes_sub_commands_options_and_autocomplete_values(session) -> None:
    console, _, _ = session
    assert await console.completions("/ad") == [
        n + " " for n in console.command_names() if n.startswith("/admin")
    ]
    assert await console.completions("/admin pho") == ["/admin photo add ", "/admin photo remove "]
    assert await console.completions("/potd set ") == [
        "/potd set channel: ",
        "/potd set time: ",
        "/potd set timezone: ",
    ]
    assert await console.completions("/potd set channel: #ph") == ["/potd set channel: #photos"]
    assert await console.completions("/potd set channel: #photos ti") == [
        "/potd set channel: #photos time: ",
        "/potd set channel: #photos timezone: ",
    ]
    zones = await console.completions("/potd set channel: #photos timezone: Europe/Par")
    assert "/potd set channel: #photos timezone: Europe/Paris" in zones
    kinds = await console.completions("/admin content list kind: ")
    assert kinds == [f"/admin content list kind: {k}" for k in ("article", "photo", "fact", "crew")]


async def test_buttons_are_pressed_by_number_and_edits_are_shown(session) -> None:
    console, _, transcript = session
    out = await typed(console, transcript, "/photo random")
    assert "[1] Another" in out
    out = await typed(console, transcript, "1")
    assert "── Cupola in #general" in out and "[1] Another" in out
    assert await console.handle("7") == "Choose a button from 1 to 1."


@pytest.fixture
def local_pictures(tmp_path: Path) -> Path:
    directory = tmp_path / "pictures"
    directory.mkdir()
    # Named like the last part of two shipped photos' URLs; one stray file matches nothing.
    (directory / "0788f393129afb8.png").write_bytes(make_jpeg(1200, 800, seed=5))
    (directory / "07522272d2cad71.jpg").write_bytes(make_jpeg(800, 1200, seed=6))
    (directory / "holiday.jpg").write_bytes(make_jpeg(640, 480, seed=7))
    (directory / "c54504ad66c9626.webp").write_bytes(b"not a picture at all")
    return directory


async def test_offline_photos_from_local_files(session, local_pictures: Path) -> None:
    from bot.photos.local import attach_local_pictures

    console, bot, transcript = session
    report = await attach_local_pictures(bot.db, bot.images, local_pictures)
    summary = report.summary()
    assert len(report.attached) == 2
    assert "holiday.jpg" in summary and "add them with /admin photo add" in summary
    assert "c54504ad66c9626.webp: refused" in summary
    photo_id = next(pid for pid, name in report.attached.items() if name == "0788f393129afb8.png")
    out = await typed(console, transcript, f"/photo show id: {photo_id}")
    assert f"│ image: attachment://photo-{photo_id}." in out
    assert f"📎 photo-{photo_id}." in out and "saved to" in out
    saved = Path(out.split("saved to ")[1].splitlines()[0])
    assert (await asyncio.to_thread(saved.read_bytes))[:3] == b"\xff\xd8\xff"


async def test_console_cli_takes_an_images_directory(tmp_path: Path, local_pictures: Path) -> None:
    from tests.support.helpers import cupola

    code, out, err = await cupola(
        "console", "--images", str(local_pictures), cwd=tmp_path, stdin=b"/photo credits\nquit\n"
    )
    assert code == 0, err
    assert "Pictures from local files: 2 photos now have one." in out
    code, _, err = await cupola("console", "--images", str(tmp_path / "nope"), cwd=tmp_path, stdin=b"")
    assert code == 2 and "not a directory" in err


async def test_a_photo_added_from_a_local_file_is_shown(session, tmp_path: Path) -> None:
    console, _, transcript = session
    picture = tmp_path / "cupola-window.jpg"
    picture.write_bytes(make_jpeg(900, 1200, seed=9))
    out = await typed(
        console,
        transcript,
        f"/admin photo add caption: Earth through the Cupola window credit: ESA image: {picture}",
    )
    number = re.search(r"#(\d+)", out)
    assert number, out
    out = await typed(console, transcript, f"/photo show id: {number.group(1)}")
    assert "Earth through the Cupola window" in out and "│ • Credit: ESA" in out
    assert f"📎 photo-{number.group(1)}." in out
