"""Separating what the person wrote from quoted history, signatures and footers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import Vocabulary, fold

_QUOTED = re.compile(r"^\s*(?:>|\|)")


@dataclass(frozen=True)
class Reply:
    text: str      # what the person wrote
    removed: str   # quoted history, signature and footers, in order


def _header_at(lines: list[str], lows: list[str], hinted: list[bool | None], i: int,
               vocab: Vocabulary) -> int:
    """Number of lines the quote header starting at line i spans (0: none)."""
    line = lows[i]
    if not line.strip() or _QUOTED.match(line):
        return 0
    # a header holds a hint word ("schrieb", "wrote", " am ") in its first three lines; each
    # line is looked at once, when the scan first reaches it
    for j in range(i, min(i + 3, len(lows))):
        if hinted[j] is None:
            hinted[j] = bool(vocab.header_hint.search(f" {lows[j]} "))
    if not any(hinted[i:i + 3]):
        return 0
    joined = line
    for span in range(1, 4):
        if span > 1:
            if i + span - 1 >= len(lines) or not lines[i + span - 1].strip():
                break
            joined = joined + " " + lows[i + span - 1].strip()
        if len(joined) < 400 and (
                vocab.quote_headers.match(joined) if joined.rstrip().endswith(":")
                else vocab.quote_rules.match(joined)):
            return span
    return 0


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
        if _QUOTED.match(line):
            removed.append(line)
            i += 1
            continue
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
            removed = keep[k:] + removed
            keep = keep[:k]
            break

    reply = "\n".join(keep).strip()
    return Reply(reply, "\n".join(removed).strip())
