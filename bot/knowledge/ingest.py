"""Read an article (plain text, Markdown with YAML front matter, or HTML) into passages and facts.

The result is plain data so the bot core can store it in SQL and rebuild the question index from it
without re-reading the original file.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import yaml
from bs4 import BeautifulSoup, Comment, NavigableString, Tag

import bot.knowledge.bilingual as bilingual
import bot.knowledge.extract as extract
from bot.knowledge.lexicon import MONTHS, detect_language, han_count, normalize_text
from bot.knowledge.model import (  # noqa: F401  (re-exported: the package's public names)
    ArticleError,
    CrewRef,
    FactRef,
    ImageRef,
    ParsedArticle,
    Passage,
)
from bot.knowledge.text import TERMS_VERSION, term_set
from bot.text import strip_controls

log = logging.getLogger(__name__)

MAX_ARTICLE_BYTES = 5 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------
_MAGIC = {
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF8": "gif",
    b"%PDF": "pdf",
    b"PK\x03\x04": "zip",
    b"\x1f\x8b": "gzip",
    b"RIFF": "riff",
    b"\x7fELF": "elf",
    b"MZ": "exe",
    b"\xd0\xcf\x11\xe0": "office",
}


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        if len(data) > MAX_ARTICLE_BYTES:
            raise ArticleError(
                "article.text_too_long", size=len(data) // 1024, limit=MAX_ARTICLE_BYTES // (1024 * 1024)
            )
        text = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > MAX_ARTICLE_BYTES:
            raise ArticleError(
                "article.file_too_big", size=len(raw) // 1024, limit=MAX_ARTICLE_BYTES // (1024 * 1024)
            )
        if not raw.strip():
            raise ArticleError("article.empty")
        for magic, kind in _MAGIC.items():
            if raw.startswith(magic):
                raise ArticleError(f"article.binary.{kind}")
        text = _decode_bytes(raw)
    else:
        raise TypeError(f"expected the article as bytes or text, got {type(data).__name__}")
    if "\x00" in text:
        raise ArticleError("article.nul")
    if not text.strip():
        raise ArticleError("article.empty")
    controls = len(_CONTROL_RE.findall(text))
    if controls > max(8, len(text) // 100):
        raise ArticleError("article.controls")
    return text.lstrip("\ufeff")


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _decode_bytes(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ArticleError("article.bad_utf16", reason=exc.reason) from exc
    if b"\x00" in raw:
        raise ArticleError("article.nul")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Chinese articles are sometimes saved as GB18030/GBK; accept that only when it reads as Chinese.
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text:
        han = han_count(text)
        odd = sum(
            1 for ch in text if not (ch.isascii() or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
        )
        if han >= 4 and odd <= han // 20:
            log.info("decoded article as GB18030 (%s Han characters)", han)
            return text
    pos = utf8_error.start
    raise ArticleError("article.bad_utf8", byte=f"0x{raw[pos]:02x}", position=pos)


# ---------------------------------------------------------------------------------------------
# Front matter and format detection
# ---------------------------------------------------------------------------------------------
_FM_OPEN_RE = re.compile(r"\A(?:[ \t]*\n)*---[ \t]*\n")
_FM_CLOSE_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_HTML_TAG_RE = re.compile(
    r"<(?:!doctype\s+html|html|head|body|div|p|br|img|h[1-6]|article|section|figure|figcaption|span|a|"
    r"strong|em|ul|ol|li|table|blockquote|main|header|footer|meta|title)\b[^>]*>",
    re.IGNORECASE,
)
_MD_SIGNAL_RE = re.compile(
    r"^#{1,6}[ \t]+\S|!\[[^\]]*\]\([^)]+\)|\[[^\]]+\]\([^)]+\)|\*\*[^*\n]+\*\*|^```",
    re.MULTILINE,
)


def _split_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    opened = _FM_OPEN_RE.match(text)
    if not opened:
        return None, text
    rest = text[opened.end() :]
    closing = _FM_CLOSE_RE.search(rest)
    if not closing:
        raise ArticleError("article.front_matter_unclosed")
    raw_yaml = rest[: closing.start()]
    try:
        meta = yaml.safe_load(raw_yaml)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is None:
            raise ArticleError("article.yaml_broken", problem=problem) from exc
        raise ArticleError(
            "article.yaml_broken_at", line=mark.line + 2, column=mark.column + 1, problem=problem
        ) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ArticleError("article.front_matter_not_pairs", kind=type(meta).__name__)
    return {str(k).lower(): v for k, v in meta.items()}, rest[closing.end() :].lstrip("\n")


def _detect_format(body: str, filename: str | None) -> str:
    suffix = PurePath(filename).suffix.lower() if filename else ""
    tags = len(_HTML_TAG_RE.findall(body[:200_000]))
    stripped = body.lstrip()
    if tags >= 2 or (tags >= 1 and stripped.startswith("<")):
        return "html"
    if suffix in (".html", ".htm", ".xhtml") and tags >= 1:
        return "html"
    if suffix in (".md", ".markdown", ".mdown", ".mkd"):
        return "markdown"
    if len(_MD_SIGNAL_RE.findall(body)) >= 1:
        return "markdown"
    return "text"


# ---------------------------------------------------------------------------------------------
# Blocks: paragraphs and images in reading order, whatever the input format
# ---------------------------------------------------------------------------------------------
@dataclass
class _Block:
    kind: str  # "para", "heading", "image"
    text: str = ""
    url: str | None = None
    alt: str | None = None
    caption: str | None = None
    caption_hint: bool = False


_CREDIT_TAIL_RE = re.compile(
    r"[\s(\[（]*(?:(?:image|photo|picture|video|photograph)\s+)?(?:credits?\s*[:：]|courtesy(?:\s+of)?\s*[:：]?|"
    r"(?:image|photo|picture|photograph)\s*[:：]|图片来源\s*[:：]|图源\s*[:：]|图片\s*[:：]|图\s*[:：]|来源\s*[:：]|"
    r"摄影\s*[:：]|供图\s*[:：])\s*(?P<credit>[^()\[\]（）\n]{1,80}?)\s*[)\]）]?\s*[.。]?\s*$",
    re.IGNORECASE,
)
_CREDIT_WORDS_RE = re.compile(r"[A-Za-z\u4e00-\u9fff]")


def _split_credit(text: str) -> tuple[str, str | None]:
    """'A view of the station. Credit: NASA.' → ('A view of the station.', 'NASA')."""
    match = _CREDIT_TAIL_RE.search(text)
    if not match:
        return text, None
    credit = match.group("credit").strip().rstrip(".。 ")
    if not credit or not _CREDIT_WORDS_RE.search(credit) or len(credit.split()) > 8:
        return text, None
    return text[: match.start()].strip(), credit


_PHOTOGRAPHER_IN_CREDIT_RE = re.compile(
    r"\s*[.;,，；。]?\s*(?:photographer|photo(?:graph)? by|taken by|摄影师?)\s*[:：]?\s*(?P<name>[^.;。]{2,60})[.。]?\s*$",
    re.IGNORECASE,
)


def _with_photographer(img: ImageRef, article_photographer: str | None) -> ImageRef:
    """ "Credit: Roscosmos. Photographer: Oleg Novitskiy." → credit Roscosmos, photographer Oleg Novitskiy;
    an image's own photographer wins over the one the article names."""
    credit, own = img.credit, None
    if credit:
        match = _PHOTOGRAPHER_IN_CREDIT_RE.search(credit)
        if match and match.start() > 0:
            credit, own = credit[: match.start()].strip(" .;,"), match.group("name").strip()
    photographer = own or article_photographer or img.photographer
    return ImageRef(img.url, img.caption, credit, photographer, img.passage_index)


def _inline_text(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside h1 h2 h3 h4 h5 h6 li ul ol blockquote pre table tr td th "
    "dl dt dd figure figcaption address hr body html center".split()
)
_SKIP_TAGS = frozenset("script style noscript template head nav iframe object svg form button select".split())


def _html_blocks(body: str) -> tuple[list[_Block], dict[str, str]]:
    soup = BeautifulSoup(body, "html.parser")
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or "").lower()
        if key and tag.get("content"):
            meta.setdefault(key, str(tag["content"]).strip())
    if soup.title and soup.title.string:
        meta.setdefault("html_title", soup.title.string.strip())
    canonical = soup.find("link", rel="canonical")
    if canonical is not None and canonical.get("href"):
        meta.setdefault("canonical", str(canonical["href"]))
    time_tag = soup.find("time")
    if time_tag is not None:
        meta.setdefault("time", str(time_tag.get("datetime") or time_tag.get_text(" ", strip=True)))

    blocks: list[_Block] = []
    buf: list[str] = []
    state = {"hint": False, "emph_only": True}

    def flush(kind: str = "para", hint: bool = False) -> None:
        text = _inline_text("".join(buf))
        buf.clear()
        if text:
            blocks.append(_Block(kind, text, caption_hint=hint or state["hint"]))
        state["hint"] = False

    def image_block(img: Tag, caption: str | None = None) -> _Block:
        url = None
        for attr in ("src", "data-src", "data-original", "data-lazy-src"):
            value = img.get(attr)
            if value and not str(value).startswith("data:"):
                url = str(value).strip()
                break
        alt = _inline_text(str(img.get("alt") or img.get("title") or "")) or None
        return _Block("image", url=url, alt=alt, caption=caption)

    def classes(tag: Tag) -> str:
        return " ".join(tag.get("class") or []).lower()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _SKIP_TAGS:
                continue
            if name == "br":
                flush()
            elif name == "img":
                flush()
                blocks.append(image_block(child))
            elif name == "figure":
                flush()
                caption_tag = child.find("figcaption")
                caption = _inline_text(caption_tag.get_text(" ")) if caption_tag else None
                imgs = child.find_all("img")
                for i, img in enumerate(imgs):
                    blocks.append(image_block(img, caption if i == len(imgs) - 1 else None))
                if not imgs and caption:
                    blocks.append(_Block("para", caption))
            elif re.fullmatch(r"h[1-6]", name):
                flush()
                walk(child)
                flush("heading")
            elif name in _BLOCK_TAGS:
                flush()
                hint = any(word in classes(child) for word in ("caption", "credit")) or name == "figcaption"
                walk(child)
                flush(hint=hint)
            elif name in ("em", "i", "small", "cite") and not _inline_text("".join(buf)):
                walk(child)
                state["hint"] = True
            else:
                if any(word in classes(child) for word in ("caption", "credit")):
                    state["hint"] = True
                walk(child)

    root = soup.body or soup
    walk(root)
    flush()
    return blocks, meta


_MD_IMAGE_RE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<url>[^)\s]+)(?:\s+[\"'](?P<title>[^\"']*)[\"'])?\)")
_MD_LINK_RE = re.compile(r"\[(?P<text>[^\]]+)\]\([^)]*\)")
_MD_EMPH_RE = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_MD_ITALIC_LINE_RE = re.compile(r"^\s*([*_])(?!\1)(.+?)\1\s*$")


def _md_inline(text: str) -> str:
    text = _MD_LINK_RE.sub(lambda m: m.group("text"), text)
    for _ in range(3):
        text = _MD_EMPH_RE.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", " ", text)
    return _inline_text(text)


def _markdown_blocks(body: str) -> list[_Block]:
    blocks: list[_Block] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if not para:
            return
        raw = (
            " ".join(line.strip() for line in para)
            if not han_count("".join(para))
            else "".join(line.strip() for line in para)
        )
        para.clear()
        italic = bool(_MD_ITALIC_LINE_RE.match(raw))
        pos = 0
        for match in _MD_IMAGE_RE.finditer(raw):
            before = _md_inline(raw[pos : match.start()])
            if before:
                blocks.append(_Block("para", before))
            alt = match.group("alt").strip() or (match.group("title") or "").strip() or None
            blocks.append(_Block("image", url=match.group("url"), alt=alt))
            pos = match.end()
        rest = _md_inline(raw[pos:])
        if rest:
            blocks.append(_Block("para", rest, caption_hint=italic))

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if not stripped:
            flush()
            continue
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", stripped)
        if heading:
            flush()
            blocks.append(_Block("heading", _md_inline(heading.group(2))))
            continue
        if re.fullmatch(r"(?:[-*_]\s*){3,}", stripped):
            flush()
            continue
        if re.match(r"^(?:[-*+]|\d+[.)])\s+", stripped):
            flush()
            para.append(re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", stripped))
            flush()
            continue
        para.append(re.sub(r"^(?:>\s?)+", "", stripped))
    flush()
    return blocks


def _text_blocks(body: str) -> list[_Block]:
    """Paragraphs split on blank lines; a date line, a caption line or a lone '>' also ends one."""
    blocks: list[_Block] = []
    for chunk in re.split(r"\n[ \t]*\n", body):
        lines: list[str] = []

        def flush(lines: list[str] = lines) -> None:
            if lines:
                joiner = "" if han_count("".join(lines)) > sum(map(len, lines)) // 4 else " "
                blocks.append(_Block("para", _inline_text(joiner.join(lines)) if joiner else "".join(lines)))
                lines.clear()

        for raw in chunk.splitlines():
            line = raw.strip()
            if not line:
                continue
            if not re.search(r"[A-Za-z0-9\u4e00-\u9fff]", line):
                flush()
                continue
            if _date_only(line) is not None or (_split_credit(line)[1] is not None and len(line) <= 400):
                flush()
                blocks.append(_Block("para", line))
                continue
            lines.append(line)
        flush()
    return blocks


# ---------------------------------------------------------------------------------------------
# Metadata helpers
# ---------------------------------------------------------------------------------------------
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(
        rf"(?P<mon>{_MONTH_NAMES})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})", re.IGNORECASE
    ),
    re.compile(
        rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH_NAMES})\.?,?\s+(?P<y>\d{{4}})", re.IGNORECASE
    ),
]
_DATE_LINE_RE = re.compile(
    r"^(?:(?:published|posted|updated|date|发布时间|发布于|日期|时间)\s*[:：]?\s*)?(?P<date>.{6,40}?)\s*[.。]?$",
    re.IGNORECASE,
)


def parse_date(value: Any) -> dt.date | None:
    """Dates as YAML gives them, ISO strings, RFC 2822, 'November 8, 2021' or '2021年11月8日'."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = normalize_text(str(value)).strip()
    try:
        parsed = email.utils.parsedate_to_datetime(text)
        if parsed is not None:
            return parsed.date()
    except (TypeError, ValueError, IndexError):
        pass
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["m"]) if parts.get("m") else MONTHS[parts["mon"].lower()]
        try:
            return dt.date(int(parts["y"]), month, int(parts["d"]))
        except ValueError:
            continue
    return None


def _date_only(text: str) -> dt.date | None:
    """A paragraph that is nothing but a date ('November 8, 2021.') gives that date."""
    match = _DATE_LINE_RE.match(text.strip())
    if not match or len(text) > 60:
        return None
    candidate = match.group("date")
    found = parse_date(candidate)
    if found is None or _is_rfc2822(candidate):
        return found
    leftover = candidate
    for pattern in _DATE_PATTERNS:
        leftover = pattern.sub("", leftover)
    leftover = re.sub(r"(?i)\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|星期.|周.", "", leftover)
    return None if re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", leftover) else found


def _is_rfc2822(text: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(text) is not None
    except (TypeError, ValueError, IndexError):
        return False


def _meta_str(meta: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value if v)
        if isinstance(value, dict):
            value = value.get("name") or value.get("title")
        if value not in (None, ""):
            return _inline_text(str(value))
    return None


_HEADER_LINE_RE = re.compile(
    r"^(?P<key>title|author|by|date|published|source|url|link|标题|作者|日期|来源|发布时间)\s*[:：]\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_HEADER_KEYS = {
    "标题": "title",
    "作者": "author",
    "by": "author",
    "日期": "date",
    "发布时间": "date",
    "published": "date",
    "来源": "source",
    "link": "url",
}
_BYLINE_RE = re.compile(r"^(?:by|作者[:：]?)\s*(?P<name>[^\n]{2,60})$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e u.s u.k inc ltd co no fig approx est dept gen col lt capt sgt "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft s.s u.s.s h.m.s r.m.s".split()
)
_ZH_END = "。！？!?"
_CITATION_RE = re.compile(r"\[(?:\d{1,3}|[a-z]|citation needed)\]")
_CLOCK_CONTINUES_RE = re.compile(
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun|[ECMP][SD]T\b|UTC|GMT|"
    r"Moscow|local|Eastern|Central|Pacific)"
)
_CLOSERS = "\"'”’」』）)]】"


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph: Chinese ends at 。！？, English at . ! ? before a capital or digit."""
    text = text.strip()
    out: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        boundary = False
        if ch in _ZH_END or (ch == "…" and text[i : i + 2] == "……"):
            j = i + 1
            while j < n and (text[j] in _CLOSERS or text[j] in _ZH_END or text[j] == "…"):
                j += 1
            quoted = j > i + 1 and text[j - 1] in _CLOSERS
            # “我们到了！”她说。 goes on after the closing quote: one sentence.
            boundary, end = not (quoted and j < n and "\u4e00" <= text[j] <= "\u9fff"), j
        elif ch == ".":
            j = i + 1
            while j < n and text[j] in _CLOSERS:
                j += 1
            citation = _CITATION_RE.match(text, j)
            while citation:  # "...in 2022.[8] Prior to..." ends the sentence after the marker
                j = citation.end()
                citation = _CITATION_RE.match(text, j)
            if j >= n:
                boundary, end = True, j
            elif text[j].isspace():
                k = j
                while k < n and text[k].isspace():
                    k += 1
                nxt = text[k] if k < n else ""
                word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[start:i])
                prev = word.group(1).lower() if word else ""
                is_abbrev = prev in _ABBREVIATIONS or (len(prev) == 1 and _is_initial(text[start:i]))
                if prev in ("a.m", "p.m") and _CLOCK_CONTINUES_RE.match(text, k):
                    is_abbrev = True  # "at 3:27 a.m. Aug. 26", "6:32 p.m. EST Thursday"
                if (
                    nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘(" or "\u4e00" <= nxt <= "\u9fff"
                ) and not is_abbrev:
                    boundary, end = True, j
        if boundary:
            sentence = text[start:end].strip()
            if sentence:
                out.append(sentence)
            start = end
            i = end
            continue
        i += 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _is_initial(before: str) -> bool:
    """'John F.' is an initial; '200 degrees F.', '-128 C.' and '−157 °C.' end a sentence."""
    words = before.split()
    if not words or not words[-1][:1].isalpha():
        return False
    if len(words) < 2:
        return True
    prev = words[-2].lower().rstrip(",")
    return not (re.fullmatch(r"[-+\u2212]?[\d.,]+°?", prev) or prev in ("degree", "degrees", "°"))


def _meaningful(sentence: str) -> bool:
    """Drop stray fragments ('F.', '>') that are not sentences."""
    return han_count(sentence) >= 2 or len(re.findall(r"[A-Za-z]{2,}", sentence)) >= 2


# ---------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^\w]+", "-", text).strip("-")


def _normalise_url(url: str) -> str:
    url = url.strip()
    url = re.sub(r"^https?://", "", url, flags=re.IGNORECASE)
    url = url.split("#", 1)[0].rstrip("/")
    host, _, path = url.partition("/")
    return host.lower().removeprefix("www.") + ("/" + path if path else "")


def _content_hash(
    title: str, published: dt.date | None, passages: list[Passage], images: list[ImageRef]
) -> str:
    payload = {
        "title": _inline_text(title),
        "published": published.isoformat() if published else None,
        "passages": [_inline_text(p.text) for p in passages],
        "images": [[i.url, i.caption, i.credit] for i in images],
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(unicodedata.normalize("NFC", blob).encode("utf-8")).hexdigest()


def _identity(
    url: str | None, title: str, source: str | None, filename: str | None, content_hash: str
) -> str:
    """Same article ⇔ same canonical URL; else same title and source; else same file name; else content.

    The title (not the file name) is preferred because uploads are often called 'article.txt':
    keying on the file name would let one article silently replace a different one.  ``title`` is
    empty when the article has none of its own (we then only borrowed its first sentence).
    """
    if url and re.match(r"^https?://", url, re.IGNORECASE):
        return "url:" + _normalise_url(url)
    if title:
        return "title:" + _slug(title) + ("|" + _slug(source) if source else "")
    if filename:
        return "file:" + _slug(PurePath(filename).stem)
    return "hash:" + content_hash[:24]


def parse_article(data: bytes | str, *, filename: str | None = None) -> ParsedArticle:
    """Parse one uploaded or shipped article; raises :class:`ArticleError` for unusable input."""

    bilingual.load()  # the tokenizer's dictionary, before any text is cut into terms
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    meta, body = _split_front_matter(text)
    meta = strip_controls(meta or {})  # YAML escapes ("\0") can put NUL in a title (issue 9)
    if not body.strip():
        raise ArticleError("article.no_body")
    fmt = _detect_format(body, filename)
    html_meta: dict[str, str] = {}
    if fmt == "html":
        blocks, html_meta = _html_blocks(body)
    elif fmt == "markdown":
        blocks = _markdown_blocks(body)
    else:
        blocks = _text_blocks(body)

    title = _meta_str(meta, "title", "headline", "name") or _meta_str(
        html_meta, "og:title", "twitter:title", "html_title"
    )
    author = _meta_str(meta, "author", "authors", "by", "byline") or _meta_str(
        html_meta, "author", "article:author"
    )
    source = _meta_str(
        meta, "source", "publisher", "site", "site_name", "publication", "outlet"
    ) or _meta_str(html_meta, "og:site_name", "publisher")
    url = _meta_str(meta, "url", "link", "permalink", "canonical_url", "canonical") or _meta_str(
        html_meta, "canonical", "og:url"
    )
    if source and not url and re.match(r"^https?://", source, re.IGNORECASE):
        url = source
    published = parse_date(
        meta.get("date") or meta.get("published") or meta.get("pubdate") or meta.get("created")
    )
    if published is None:
        published = parse_date(
            html_meta.get("article:published_time") or html_meta.get("date") or html_meta.get("pubdate")
        ) or parse_date(html_meta.get("time"))

    # Plain "Key: value" header lines at the top of a text file.
    if fmt == "text" and blocks:
        lines = [ln.strip() for ln in body.strip().split("\n\n", 1)[0].splitlines() if ln.strip()]
        headers = [_HEADER_LINE_RE.match(ln) for ln in lines]
        if lines and all(headers):
            values: dict[str, str] = {}
            for match in headers:
                assert match is not None
                key = match.group("key").lower()
                values[_HEADER_KEYS.get(key, key)] = match.group("value").strip()
            title = title or values.get("title")
            author = author or values.get("author")
            source = source or values.get("source")
            url = url or values.get("url")
            published = published or parse_date(values.get("date"))
            blocks = blocks[1:]

    # Title from the body when the metadata has none.
    if blocks and blocks[0].kind == "heading":
        if not title:
            title = blocks[0].text
            blocks = blocks[1:]
        elif _slug(blocks[0].text) == _slug(title):
            blocks = blocks[1:]
    elif not title and fmt in ("text", "markdown") and len(blocks) >= 2:
        first = blocks[0].text
        if len(first) <= 200 and "\n" not in first and _split_credit(first)[1] is None:
            title = first
            blocks = blocks[1:]
    if not title and fmt in ("text", "markdown") and blocks:
        first_line = body.strip().splitlines()[0].strip()
        if len(first_line) <= 120 and not first_line.endswith((".", "。", "!", "?", "！", "？")):
            title = first_line
            rest = blocks[0].text[len(first_line) :].strip()
            blocks = ([_Block("para", rest)] if rest else []) + blocks[1:]

    passages: list[Passage] = []
    images: list[ImageRef] = []

    def add_passages(text: str) -> int | None:
        first_index: int | None = None
        for sentence in split_sentences(text):
            if not _meaningful(sentence):
                continue
            passages.append(Passage(len(passages), sentence))
            if first_index is None:
                first_index = len(passages) - 1
        return first_index

    def attach(img: _Block, caption: str | None, credit: str | None, index: int | None) -> None:
        context = index if index is not None else (len(passages) - 1 if passages else None)
        images.append(ImageRef(img.url, caption or img.alt, credit, None, context))

    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "image":
            caption, credit, index = block.caption, None, None
            if caption:
                caption, credit = _split_credit(caption)
                index = add_passages(caption)
            elif i + 1 < len(blocks) and blocks[i + 1].kind == "para":
                nxt = blocks[i + 1]
                cap, cred = _split_credit(nxt.text)
                if (cred is not None or nxt.caption_hint) and len(nxt.text) <= 400:
                    caption, credit = cap or None, cred
                    index = add_passages(cap) if cap else None
                    i += 1
            if caption is None and block.alt:
                caption, alt_credit = _split_credit(block.alt)
                credit = credit or alt_credit
            if not caption and i + 1 < len(blocks) and blocks[i + 1].kind == "para":
                # A picture followed by its paragraph: that paragraph's first sentence describes it
                # (the paragraph stays part of the article too).
                first = next(iter(split_sentences(blocks[i + 1].text)), "")
                if 0 < len(first) <= 200:
                    caption = first
            attach(block, caption, credit, index)
            i += 1
            continue
        if block.kind == "heading":
            i += 1
            continue
        text_ = block.text
        if not re.search(r"[A-Za-z0-9\u4e00-\u9fff]", text_):
            i += 1
            continue
        date_here = _date_only(text_)
        if date_here is not None:
            published = published or date_here
            i += 1
            continue
        byline = _BYLINE_RE.match(text_)
        if byline and len(text_.split()) <= 6 and not passages:
            author = author or byline.group("name").strip()
            i += 1
            continue
        caption, credit = _split_credit(text_)
        if credit is not None and len(text_) <= 400:
            index = add_passages(caption) if caption else None
            images.append(ImageRef(None, caption or None, credit, None, index))
        else:
            add_passages(text_)
        i += 1
    if meta and fmt == "text":
        fmt = "markdown"

    if not passages:
        raise ArticleError("article.no_sentences")
    guessed_title = not title
    if not title:
        title = passages[0].text[:120]
    title = _inline_text(title)

    language = detect_language(" ".join(p.text for p in passages))
    photographer, photographer_passage = extract.find_photographer(passages)
    images = [_with_photographer(img, photographer) for img in images]
    crew = extract.find_crew(passages)
    facts = extract.find_facts(passages)
    content_hash = _content_hash(title, published, passages, images)
    identity = _identity(url, "" if guessed_title else title, source, filename, content_hash)
    log.debug(
        "parsed article %r: %s passages, %s facts, %s crew", title, len(passages), len(facts), len(crew)
    )
    return ParsedArticle(
        title=title,
        published=published,
        author=author,
        source=source,
        language=language,
        passages=passages,
        images=images,
        crew=crew,
        facts=facts,
        content_hash=content_hash,
        identity=identity,
        photographer=photographer,
        photographer_passage=photographer_passage,
        format=fmt,
        url=url,
        passage_terms=[sorted(term_set(p.text)) for p in passages],
        title_terms=sorted(term_set(title)),
        terms_version=TERMS_VERSION,
    )
