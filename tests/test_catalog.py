"""One message catalog: every key the code says exists in English and Chinese, and a member whose
Discord speaks Chinese never reads an English sentence of the catalog, error paths included."""

from __future__ import annotations

import ast
import io
import re
import string
from pathlib import Path
from typing import Any

from PIL import Image

from bot.core import Cupola
from bot.feeds.policy import FAILURE_CODES
from bot.i18n import MESSAGES
from bot.net import SafeHttp
from bot.render.photos import PICTURE_REASONS
from bot.sandbox import Sandbox, Upload
from bot.sandbox.interactions import InteractionRecord

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "cogs")
PREFIXES = {key.split(".")[0] for key in MESSAGES}
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
FILE_SUFFIXES = (".toml", ".py", ".txt", ".md", ".html", ".jpg", ".png", ".xml", ".json", ".db", ".sqlite")


def _fields(template: str) -> set[str]:
    """The placeholders; ``{part_zh}`` (the Chinese word for an English ``{part}``) counts as ``part``."""
    return {name.removesuffix("_zh") for _, name, _, _ in string.Formatter().parse(template) if name}


def key_usages() -> tuple[dict[str, str], dict[str, str]]:
    """Every catalog key written in bot/ and cogs/ (any string constant shaped like a key whose first
    part is a catalog prefix: ``t("potd.title")``, ``key="…"``, ``ImageRejected(code, "image.…")``),
    and every f-string key prefix (``f"feeds.why.{code}"``), each with where it is written."""
    keys: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # table and column names ("article.id"), never sentences
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = str(path.relative_to(ROOT))
            in_fstring: set[int] = set()
            not_keys: set[int] = set()  # audit action codes (``action="potd.set"``) are not sentences
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg in ("action", "foreign_key"):
                    not_keys.add(id(node.value))  # an audit action code, a column ("article.id")
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) == "ForeignKey"
                    and node.args
                ):
                    not_keys.add(id(node.args[0]))
                if (  # "admin.kind_" + kind
                    isinstance(node, ast.BinOp)
                    and isinstance(node.op, ast.Add)
                    and isinstance(node.left, ast.Constant)
                    and isinstance(node.left.value, str)
                    and node.left.value.split(".")[0] in PREFIXES
                ):
                    not_keys.add(id(node.left))
                    prefixes.setdefault(node.left.value, f"{where}:{node.lineno}")
                if isinstance(node, ast.JoinedStr):
                    parts = node.values
                    in_fstring.update(id(p) for p in parts)
                    if parts and isinstance(parts[0], ast.Constant) and isinstance(parts[0].value, str):
                        head = parts[0].value
                        if (
                            head.endswith(".")
                            and KEY.match(head[:-1] + ".x")
                            and head.split(".")[0] in PREFIXES
                        ):
                            prefixes.setdefault(head, f"{where}:{node.lineno}")
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in in_fstring | not_keys
                    and KEY.match(node.value)
                    and node.value.split(".")[0] in PREFIXES
                    and not node.value.endswith(FILE_SUFFIXES)
                ):
                    keys.setdefault(node.value, f"{where}:{node.lineno}")
    return keys, prefixes


def test_the_scan_finds_keys_however_they_are_written() -> None:
    keys, prefixes = key_usages()
    assert "potd.title" in keys  # t("potd.title", lang)
    assert "error.not_admin" in keys  # key="error.not_admin"
    assert "image.corrupt" in keys  # ImageRejected("corrupt", "image.corrupt")
    assert "net.private_url" in keys  # PrivateAddressError("net.private_url", …)
    assert "feeds.why." in prefixes and "picture." in prefixes  # f-strings
    assert "bot.core" not in keys and "feeds.toml" not in keys  # a module, a file


def test_every_key_the_code_uses_has_english_and_chinese() -> None:
    keys, prefixes = key_usages()
    # Keys built at run time from a closed set of codes: each one must be there.
    keys.update({f"picture.{code}": "bot/render/photos.py" for code in [*PICTURE_REASONS, "other"]})
    keys.update({f"feeds.why.{code}": "bot/render/feeds.py" for code in [*FAILURE_CODES, "other"]})
    keys.update(
        {f"image.hint.{h}": "bot/media/images.py" for h in ("convert", "heic", "still", "pdf", "svg")}
    )
    missing = sorted(f"{key} ({where})" for key, where in keys.items() if key not in MESSAGES)
    assert missing == []
    unused_prefix = sorted(p for p in prefixes if not any(k.startswith(p) for k in MESSAGES))
    assert unused_prefix == []
    incomplete = sorted(
        key
        for key in keys
        if not (MESSAGES[key][0].strip() and MESSAGES[key][1].strip())
        or _fields(MESSAGES[key][0]) != _fields(MESSAGES[key][1])
    )
    assert incomplete == []  # both texts there, with the same placeholders


# --------------------------------------------------------------------------------------------- zh-CN


def english_sentences() -> list[str]:
    """The English pieces of the catalog a Chinese reply must not contain: each literal stretch of
    three words or more between placeholders, unless the Chinese text has it too (a name, a URL)."""
    pieces = set()
    for english, chinese in MESSAGES.values():
        for piece in re.split(r"\{[^}]*\}", english):
            piece = piece.strip(" .,:;()“”\"'*_`-—")
            if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 3 and piece not in chinese:
                pieces.add(piece)
    return sorted(pieces)


def texts_of(record: InteractionRecord) -> str:
    out: list[str] = []
    for message in record.messages:
        out.append(message.get("content") or "")
        for embed in message.get("embeds") or []:
            out += [embed.get("title") or "", embed.get("description") or ""]
            out += [
                (embed.get("footer") or {}).get("text") or "",
                (embed.get("author") or {}).get("name") or "",
            ]
            for f in embed.get("fields") or []:
                out += [f.get("name") or "", f.get("value") or ""]
    return "\n".join(out)


def english_in(text: str, sentences: list[str]) -> list[str]:
    return [s for s in sentences if s in text]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 80, 160)).save(out, "PNG")
    return out.getvalue()


async def finished(sandbox: Sandbox, record: InteractionRecord) -> InteractionRecord:
    """Once a deferred reply's progress text ("Fetching…") has been replaced by the answer."""
    await sandbox.wait_until(
        lambda: bool(record.messages) and not (record.messages[-1].get("content") or "").endswith("…"),
        timeout=20,
    )
    return record


async def test_a_chinese_member_reads_no_english_sentence_of_the_catalog(
    bot: Cupola, sandbox: Sandbox
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    admin = sandbox.add_user("管理员", guild=guild, roles=[sandbox.role(guild, "Admins")])
    member = sandbox.add_user("成员", guild=guild)
    sentences = english_sentences()
    truncated = png()[:60]
    runs: list[tuple[str, dict[str, Any], Any]] = [
        ("about", {}, member),
        ("help", {}, member),
        ("iss ask", {"question": "国际空间站绕地球一圈需要多长时间？"}, member),
        ("iss ask", {"question": "火星有几颗卫星？"}, member),
        ("iss facts", {}, member),
        ("crew list", {}, member),
        ("photo random", {}, member),
        ("photo credits", {}, member),
        ("potd status", {}, admin),
        ("feed list", {}, admin),
        ("feed status", {}, admin),
        ("admin fact add", {"text": "The Cupola module has seven windows."}, admin),
        ("admin audit", {}, admin),
        # error paths
        ("admin fact add", {"text": "A fact from someone who is not an admin."}, member),
        ("potd set", {"channel": sandbox.default_channel(guild), "time": "08:30"}, member),
        ("potd set", {"channel": sandbox.default_channel(guild), "time": "25:99"}, admin),
        ("feed watch", {"url": "not a feed address"}, admin),
        ("feed watch", {"url": "ftp://feeds.example/photos.xml"}, admin),
        ("feed watch", {"url": "http://127.0.0.1:9/photos.xml"}, admin),  # nothing listens there
        (
            "admin photo add",
            {"caption": "c", "credit": "d", "image": Upload("a.jpg", b"text", "image/jpeg")},
            admin,
        ),
        (
            "admin photo add",
            {"caption": "c", "credit": "d", "image": Upload("b.png", truncated, "image/png")},
            admin,
        ),
        ("admin photo add", {"caption": "c", "credit": "d", "url": "ftp://example.org/a.jpg"}, admin),
        ("admin fact remove", {"id": "999"}, admin),
        ("admin crew add", {"name": "   ", "agency": "NASA"}, admin),
    ]
    found: dict[str, list[str]] = {}
    for name, options, user in runs:
        record = await finished(sandbox, await sandbox.invoke(name, options, user=user, locale="zh-CN"))
        text = texts_of(record)
        assert text.strip(), f"/{name} {options}: no reply"
        if hits := english_in(text, sentences):
            found[f"/{name} {options}"] = hits

    # A private address, with the address guard on as in production.
    allowing = bot.net
    bot.net = SafeHttp(allow_private_addresses=False)
    try:
        for name, options in (
            ("admin photo add", {"caption": "c", "credit": "d", "url": "http://10.0.0.1/a.png"}),
            ("feed watch", {"url": "http://192.168.1.1/photos.xml"}),
        ):
            record = await finished(sandbox, await sandbox.invoke(name, options, user=admin, locale="zh-CN"))
            if hits := english_in(texts_of(record), sentences):
                found[f"/{name} {options}"] = hits
    finally:
        await bot.net.close()
        bot.net = allowing
    assert found == {}

    # The same check does see English: an English-speaking admin's refusal is caught by it.
    record = await finished(
        sandbox, await sandbox.invoke("admin photo add", runs[19][1], user=admin, locale="en-US")
    )
    assert english_in(texts_of(record), sentences)
