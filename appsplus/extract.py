"""Code from model text: fenced blocks, prose around code, truncated output, stop sequences.

Rules (`extract_code`), in order:

1. `<think>...</think>` reasoning is removed (an unclosed `<think>` removes everything after it)
   and CRLF becomes LF.
2. Fenced blocks (``` or ~~~, with or without a language) are collected; a block whose
   closing fence is missing (truncated output) runs to the end of the text. Python-labelled
   blocks (python, py, python3, ...) are preferred, then unlabelled ones; blocks in other
   languages are ignored. Among the candidates: those that define `entry_point` when given,
   then those that parse, then the longest (the first on ties).
3. Without a usable fence the text is taken as code. If it does not parse, leading and
   trailing prose lines ("Here is the solution:", "This runs in O(n).") are dropped; prose
   lines between two pieces of code split it, and the chunk is chosen as in 2. A common
   indentation is removed when that makes the code parse.
4. Truncated code is kept as it is (it fails to compile, as it should): extraction never
   drops lines of code to make a program parse.

Stop sequences are applied by the generation stage (`truncate_at_stop`), only to
completion-style prompts: a chat model's fenced answer must not be cut at "\\ndef".
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

EXTRACTION_VERSION = "1"

PYTHON_LANGS = frozenset({"python", "py", "python3", "py3", "python2", "ipython", "pycon"})
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’]*[,.:;!?]?[ \t]+[A-Za-z]")
_BLOCK_KEYWORDS = re.compile(r"^(else|elif|except|finally|case|match|try)\b")
_CLOSERS = re.compile(r"^[\])},:;\s]*$")


@dataclass(frozen=True)
class Block:
    """A fenced block: its language tag (lower case, '' if none), code, and whether it was closed."""

    lang: str
    code: str
    closed: bool


def truncate_at_stop(text: str, stop: list[str] | tuple[str, ...]) -> str:
    """`text` up to the earliest occurrence of any stop sequence."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if i != -1:
                cut = min(cut, i)
    return text[:cut]


def strip_reasoning(text: str) -> str:
    """Drop <think>...</think> spans (and an unclosed <think> with all that follows)."""
    text = _THINK.sub("", text)
    lower = text.lower()
    start = lower.find("<think>")
    return text if start == -1 else text[:start]


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block in order; an unclosed last block runs to the end of the text."""
    blocks: list[Block] = []
    fence: str | None = None
    lang = ""
    body: list[str] = []
    for line in text.split("\n"):
        if fence is None:
            m = _FENCE.match(line)
            if m:
                fence, body = m.group("fence"), []
                info = m.group("info").strip().split()
                lang = info[0].lower().lstrip("{.").rstrip("}") if info else ""
            continue
        stripped = line.strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            blocks.append(Block(lang, "\n".join(body), True))
            fence = None
            continue
        head, sep, after = line.rstrip().rpartition(fence[0] * 3)
        if sep and not after and head.strip() and not head.rstrip().endswith(fence[0]):
            body.append(head)  # closing fence glued to the last line of code
            blocks.append(Block(lang, "\n".join(body), True))
            fence = None
            continue
        body.append(line)
    if fence is not None:
        blocks.append(Block(lang, "\n".join(body), False))
    return blocks


def parses(code: str) -> bool:
    """Whether `code` is syntactically valid Python."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def defines(code: str, name: str) -> bool:
    """Whether `code` has a top-level `def name(` (or a `class Solution` with a method `name`)."""
    pattern = rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\("
    if re.search(pattern, code, re.MULTILINE):
        return True
    return bool(
        re.search(r"^class[ \t]+Solution\b", code, re.MULTILINE)
        and re.search(rf"^[ \t]+def[ \t]+{re.escape(name)}[ \t]*\(", code, re.MULTILINE)
    )


def _choose(candidates: list[str], entry_point: str | None) -> str:
    pool = candidates
    if entry_point:
        pool = [c for c in pool if defines(c, entry_point)] or pool
    pool = [c for c in pool if parses(c)] or pool
    return max(pool, key=lambda c: len(c.strip()))  # max keeps the first on ties


def _is_prose(line: str) -> bool:
    """A line that reads as an English sentence and is not Python on its own."""
    s = line.strip()
    if not s or s.startswith("#") or _BLOCK_KEYWORDS.match(s) or _CLOSERS.match(s):
        return False
    if not _WORDS.search(s) and not re.fullmatch(r"[A-Za-z][\w' -]*[:.!?]", s):
        return False
    return not parses(s + (" pass" if s.endswith(":") else ""))


def _dedented(code: str) -> str:
    if parses(code):
        return code
    flat = textwrap.dedent(code)
    return flat if parses(flat) else code


def _from_unfenced(text: str, entry_point: str | None) -> str:
    if parses(text):
        return text
    lines = text.split("\n")
    prose = [_is_prose(line) for line in lines]
    chunks: list[list[str]] = [[]]
    for line, is_prose in zip(lines, prose):
        if is_prose:
            if chunks[-1]:
                chunks.append([])
        else:
            chunks[-1].append(line)
    pieces = ["\n".join(c).strip("\n") for c in chunks]
    pieces = [p for p in pieces if p.strip()]
    if not pieces:
        return text
    return _dedented(_choose([_dedented(p) for p in pieces], entry_point))


def clean(text: str) -> str:
    """Reasoning removed, newlines normalized."""
    return strip_reasoning(text.replace("\r\n", "\n"))


def extract_code(text: str, entry_point: str | None = None) -> str:
    """The program in a model's text (see the module docstring); ends with one newline."""
    text = clean(text)
    code = fenced_code(text, entry_point)
    if code is None:
        code = _from_unfenced(text, entry_point)
    return code.strip("\n") + "\n" if code.strip() else ""


def fenced_code(text: str, entry_point: str | None = None, dedent: bool = True) -> str | None:
    """The chosen fenced Python (or unlabelled) block, or None when the text has none."""
    blocks = fenced_blocks(clean(text))
    python = [b.code for b in blocks if b.lang in PYTHON_LANGS]
    plain = [b.code for b in blocks if b.lang == ""]
    candidates = [c for c in (python or plain) if c.strip()]
    if not candidates:
        return None
    code = _choose(candidates, entry_point)
    return _dedented(code) if dedent else code
