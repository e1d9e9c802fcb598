"""Separating what the person wrote from quoted history, signatures and footers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import Vocabulary, fold

_QUOTED = re.compile(r"^\s*(?:>(?!>>.*<<<\s*$)|\|)")  # ">>> link <<<" is no quote


@dataclass(frozen=True)
class Reply:
    text: str      # what the person wrote
    removed: str   # quoted history, signature and footers, in order


def _header_at(lines: list[str], lows: list[str], hinted: list[bool | None], i: int,
               vocab: Vocabulary, inner: bool = False) -> int:
    """Number of lines the quote header starting at line i spans (0: none)."""
    line = lows[i]
    if not line.strip() or _QUOTED.match(line):
        return 0
    # a header holds a hint word ("schrieb", "wrote", " am ") in its first three lines; each
    # line is looked at once, when the scan first needs it; the first hinted line will do
    for j in range(i, min(i + 3, len(lows))):
        hint = hinted[j]
        if hint is None:
            hint = hinted[j] = vocab.header_hint.search(f" {lows[j]} ") is not None
        if hint:
            break
    else:
        return 0
    joined = line
    strong = bool(_STRONG_START.match(line))
    k = i
    for span in range(1, 6 if strong else 4):
        if span > 1:
            k += 1
            # Polymail puts the sender's address on lines of its own, after a blank one
            while strong and k < len(lines) and k < i + 4 and not lines[k].strip() and \
                    not _STOP.search(lows[k - 1]):
                k += 1
            # a header wraps onto lines of its own, never onto a quoted line, and never
            # starts with a sentence ("… as soon as I\nget back to a computer.\nOn … wrote:")
            if k >= len(lines) or not lines[k].strip() or \
                    (_QUOTED.match(lines[k]) and not _QUOTED_END.match(lines[k])) or \
                    (_SENTENCE_END if not strong else _STOP).search(lows[k - 1]):
                break
            joined = joined + " " + lows[k].lstrip(" >").strip()
        if len(joined) < 400 and (
                vocab.quote_headers.match(joined) if joined.rstrip().endswith(":")
                else vocab.quote_rules.match(joined)):
            if span > 1 and not inner and not strong and any(
                    (_STRONG_START.match(lows[j])
                     and _header_at(lines, lows, hinted, j, vocab, True))
                    or _split_inline(lines, lows, hinted, j, vocab)[1]
                    for j in range(i + 1, k + 1)):
                return 0  # the header starts on a later line; this one is the reply
            if not _DATED.search(joined) and not _next_is_quoted(lines, k + 1):
                return 0  # "Something wrote:" in running text, no quote below it
            return k - i + 1
    return 0


# lines that begin a quote header by themselves: "On …", "Am …", other languages' "Le …",
# "Op …", "W dniu …", a date ("02.04.2012 14:20 …"), a weekday ("Thu, 26 Jun 2014 …")
_STRONG_START = re.compile(
    r"^\s*-*\s*(?:(?:on|am|le|op|el|il|em|den|dnia|på|w\s+dniu|vào)\s|\d{1,4}[-./]\d"
    r"|(?:mon|tue|wed|thu|fri|sat|sun),\s)")
# a header's last line that looks quoted: Polymail's "> wrote:", an address wrapped before ">:"
_QUOTED_END = re.compile(r"^\s*>\s*(?:wrote|schrieb)?\s*[:：]\s*$")


_SENTENCE_END = re.compile(r"[.!?,;]\s*$")
_STOP = re.compile(r"[.!?;]\s*$")  # a date in a header may end a line in a comma
_DATED = re.compile(r"\d|@|^\s*-{2,}|^\s*_{5,}|^\s*(?:begin|anfang|zitat)\b")


def _next_is_quoted(lines: list[str], j: int) -> bool:
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j < len(lines) and bool(_QUOTED.match(lines[j]))


def _split_inline(lines: list[str], lows: list[str], hinted: list[bool | None], i: int,
                  vocab: Vocabulary) -> tuple[str, int]:
    """A reply and a quote header on one line ("reply On … wrote:", "Danke--- Am … schrieb"):
    the reply part and the header's span, or ("", 0)."""
    for m in _INLINE_START.finditer(lows[i]):
        if m.start() == 0:
            continue
        rest_lines = [lines[i][m.end():], *lines[i + 1:i + 3]]
        rest_lows = [lows[i][m.end():], *lows[i + 1:i + 3]]
        span = _header_at(rest_lines, rest_lows, [None] * len(rest_lows), 0, vocab, True)
        if span:
            return lines[i][:m.start()].rstrip(" -"), span
    return "", 0


_INLINE_START = re.compile(
    r"[\s-]+(?=on\s|am\s+(?:\d|mo|di|mi|do|fr|sa|so))")
_MID_START = re.compile(r"\S[\s-]+(?:on|am)\s.{3,}?(?:wrote|schrieb)")


def _mid_start(low: str) -> bool:
    """A quote header may start inside the line ("reply On … wrote:"). Its verb is looked for
    first: the pattern is tried at almost every character of a line (1 µs, the test 0.1)."""
    return ("wrote" in low or "schrieb" in low) and _MID_START.search(low) is not None


def _is_field_block(lows: list[str], i: int, vocab: Vocabulary) -> bool:
    """An Outlook/GMX header block ("Von: …", "Gesendet: …", "An: …") starts at line i."""
    if ":" not in lows[i] or not vocab.block_field.match(lows[i]):
        return False
    seen = 1
    for j in range(i + 1, min(len(lows), i + 7)):
        if ":" in lows[j] and vocab.block_field.match(lows[j]):
            seen += 1
            if seen >= 2:
                return True
    return False


def _inline_header(line: str) -> bool:
    """A flattened "Von: x Gesendet: y An: z Betreff: …" line (HTML mail without breaks)."""
    return ":" in line and bool(_INLINE.search(line))


_INLINE = re.compile(r"^\s*\*?(?:von|from)\*?:.{1,200}?\b(?:gesendet|sent|datum|date)\*?:")


def _below_history(lines: list[str], lows: list[str], vocab: Vocabulary) -> list[str]:
    """Text written under unmarked history (bottom posting): the paragraphs after the last
    one that still looks like the quoted message (links, "Feld: Wert" lines, its footer)."""
    paragraphs: list[list[int]] = [[]]
    for k, line in enumerate(lines):
        if line.strip():
            paragraphs[-1].append(k)
        elif paragraphs[-1]:
            paragraphs.append([])
    paragraphs = [p for p in paragraphs if p]
    last_quoted = -1
    for k, para in enumerate(paragraphs):
        if k == 0 or any(vocab.quoted_end.search(lows[x]) for x in para):
            last_quoted = k
    tail = paragraphs[last_quoted + 1:]
    if not tail:
        return []
    out: list[str] = []
    for para in tail:
        out.extend(lines[x] for x in para)
        out.append("")
    return out[:-1]


def split_reply(text: str, vocab: Vocabulary) -> Reply:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    lows = fold(text).split("\n")
    hinted: list[bool | None] = [None] * len(lows)
    keep: list[str] = []
    kept_lows: list[str] = []
    removed: list[str] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _QUOTED.match(line) or (
                # a line wrapped out of a quote ("> see (http://…\n_nonce=3)\n>") is quoted too
                0 < i < n - 1 and line.strip() and _QUOTED.match(lines[i - 1])
                and _QUOTED.match(lines[i + 1])):
            removed.append(line)
            i += 1
            continue
        said, span = _split_inline(lines, lows, hinted, i, vocab) if (
            _mid_start(lows[i]) and not _STRONG_START.match(lows[i])) else ("", 0)
        if span:  # "reply On … wrote:" on one line: the reply is kept
            keep.append(said)
            kept_lows.append(fold(said))
        else:
            span = _header_at(lines, lows, hinted, i, vocab)
        if span:
            # "Am … schrieb …:" followed by "> " lines: drop the header and the quote, keep
            # anything written below it (bottom posting). Otherwise the rest is history.
            j = i + span
            while j < n and not lines[j].strip():
                j += 1
            if j < n and _QUOTED.match(lines[j]):
                removed.extend(lines[i:j])
                i = j
                continue
            removed.extend(lines[i:])
            break
        if _is_field_block(lows, i, vocab) or _inline_header(lows[i]):
            rest = lines[i:]
            if not "\n".join(keep).strip():
                below = _below_history(rest, lows[i:], vocab)
                if below:
                    removed.extend(rest[:len(rest) - len(below)])
                    keep.extend(below)
                    kept_lows.extend(fold(x) for x in below)
                    break
            removed.extend(rest)
            break
        keep.append(line)
        kept_lows.append(lows[i])
        i += 1

    # Signatures, mobile footers and disclaimers: from the first marker to the end.
    for k, low in enumerate(kept_lows):
        if vocab.signature.match(low):
            # a company footer is a block: its first lines (company, address, phone) go too,
            # up to a blank line or a line that ends a sentence
            start = k
            while (k - start < 6 and start > 0 and kept_lows[start - 1].strip()
                   and vocab.company_footer.match(low) and not _STOP.search(kept_lows[start - 1])):
                start -= 1
            removed = keep[start:] + removed
            keep = keep[:start]
            break

    while keep and (not keep[-1].strip() or _RULE.match(keep[-1])):  # "=====" above history
        removed.insert(0, keep.pop())
    reply = _BLANKS.sub("\n\n", "\n".join(keep).strip())
    return Reply(reply, "\n".join(removed).strip())


_RULE = re.compile(r"^\s*[=_*~-]{5,}\s*$")
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")  # where history was cut out
