"""Separating what the person wrote from quoted history, signatures and footers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import Vocabulary

_QUOTED = re.compile(r"^\s*(?:>|\|)")


@dataclass(frozen=True)
class Reply:
    text: str      # what the person wrote
    removed: str   # quoted history, signature and footers, in order


def _header_at(lines: list[str], i: int, vocab: Vocabulary) -> int:
    """Number of lines the quote header starting at line i spans (0: none)."""
    line = lines[i]
    if not line.strip() or _QUOTED.match(line):
        return 0
    ahead = " ".join(lines[i:i + 3]).lower()
    if not any(hint in ahead for hint in vocab.header_hints):
        return 0
    joined = line
    for span in range(1, 4):
        if span > 1:
            if i + span - 1 >= len(lines) or not lines[i + span - 1].strip():
                break
            joined = joined + " " + lines[i + span - 1].strip()
        if len(joined) < 400 and vocab.quote_headers.match(joined):
            return span
    return 0


def _is_field_block(lines: list[str], i: int, vocab: Vocabulary) -> bool:
    """An Outlook/GMX header block ("Von: …", "Gesendet: …", "An: …") starts at line i."""
    if ":" not in lines[i] or not vocab.block_field.match(lines[i]):
        return False
    seen = 1
    for j in range(i + 1, min(len(lines), i + 7)):
        if vocab.block_field.match(lines[j]):
            seen += 1
            if seen >= 2:
                return True
    return False


def _inline_header(line: str) -> bool:
    """A flattened "Von: x Gesendet: y An: z Betreff: …" line (HTML mail without breaks)."""
    return ":" in line and bool(_INLINE.search(line))


_INLINE = re.compile(r"^\s*\*?(?:von|from)\*?:.{1,200}?\b(?:gesendet|sent|datum|date)\*?:",
                     re.IGNORECASE)


def _below_history(lines: list[str], vocab: Vocabulary) -> list[str]:
    """Text written under unmarked history (bottom posting): the paragraphs after the last
    one that still looks like the quoted message (links, "Feld: Wert" lines, its footer)."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    paragraphs = [p for p in paragraphs if p]
    last_quoted = -1
    for k, para in enumerate(paragraphs):
        if k == 0 or any(vocab.quoted_end.search(line) for line in para):
            last_quoted = k
    tail = paragraphs[last_quoted + 1:]
    if not tail:
        return []
    out: list[str] = []
    for para in tail:
        out.extend(para)
        out.append("")
    return out[:-1]


def split_reply(text: str, vocab: Vocabulary) -> Reply:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    keep: list[str] = []
    removed: list[str] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _QUOTED.match(line):
            removed.append(line)
            i += 1
            continue
        span = _header_at(lines, i, vocab)
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
        if _is_field_block(lines, i, vocab) or _inline_header(line):
            rest = lines[i:]
            if not "\n".join(keep).strip():
                below = _below_history(rest, vocab)
                if below:
                    removed.extend(rest[:len(rest) - len(below)])
                    keep.extend(below)
                    break
            removed.extend(rest)
            break
        keep.append(line)
        i += 1

    # Signatures, mobile footers and disclaimers: from the first marker to the end.
    for k, line in enumerate(keep):
        if vocab.signature.match(line):
            removed = keep[k:] + removed
            keep = keep[:k]
            break

    reply = "\n".join(keep).strip()
    if not reply and removed:
        # Everything was quoted: the answer may sit under a "> " block after all.
        reply = ""
    return Reply(reply, "\n".join(removed).strip())
