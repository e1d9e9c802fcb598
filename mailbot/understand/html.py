"""HTML mail bodies to plain text; quoted blocks come out as "> " lines."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "pre", "section", "article", "header", "footer", "address", "dd", "dt", "center",
}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.line_depth = 0
        self.has_text = False  # the current line holds more than blanks (kept, not searched)

    def _flush(self) -> None:
        text = re.sub(r"[ \t\r\f\v\u00a0\u200b]+", " ", "".join(self.current)).strip()
        if text or (self.lines and self.lines[-1]):
            self.lines.append(("> " * self.line_depth + text) if text else "")
        self.current = []
        self.has_text = False
        self.line_depth = self.quote_depth

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag in _BLOCK or tag == "blockquote":
            self._flush()
        if tag == "hr":
            self.lines.append("________________________________")
        if tag == "blockquote":
            self.quote_depth += 1
            self.line_depth = self.quote_depth
        if tag in ("td", "th"):
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag in _BLOCK or tag == "blockquote":
            self._flush()
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.line_depth = self.quote_depth

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            if not self.has_text:
                self.line_depth = self.quote_depth
                self.has_text = bool(data.strip())
            self.current.append(data)


# understanding reads 64 KB of text; this much HTML holds it many times over (styles and
# markup included) and converts in a fraction of a second
MAX_HTML_CHARS = 500_000


def html_to_text(html: str) -> str:
    """Linear in the input, which is cut at `MAX_HTML_CHARS`."""
    html = html[:MAX_HTML_CHARS]
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything left is dropped, never raised
        pass
    parser._flush()
    return "\n".join(parser.lines).strip("\n")
