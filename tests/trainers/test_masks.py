"""Token masks from character ranges, with two tokenizers built locally, and FGO ranges."""

from __future__ import annotations

import pytest

from appsplus.curriculum.masks import executed_ranges, token_mask
from appsplus.execution import StdioTest, run_tests

tokenizers = pytest.importorskip(
    "tokenizers", reason="the tokenizers package is needed for tokenizer tests"
)

CORPUS = [
    "def f(x):\n    if x > 0:\n        return x\n    else:\n        return -x\n",
    "n = int(input())\nfor i in range(n):\n    print(i * i)\n",
    "while True:\n    try:\n        s = input()\n    except EOFError:\n        break\n",
] * 20


def byte_level_bpe():
    """Byte-level BPE whose merges create tokens that cross line breaks ("\\n    ")."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(
            vocab_size=400,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    return tok


def word_level():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        CORPUS, trainers.WordLevelTrainer(special_tokens=["[UNK]"], show_progress=False)
    )
    return tok


def naive_mask(offsets, ranges):
    chars = {i for a, b in ranges for i in range(a, b)}
    return [any(i in chars for i in range(a, b)) for a, b in offsets]


@pytest.mark.parametrize("make", [byte_level_bpe, word_level], ids=["byte-bpe", "word-level"])
def test_token_mask_matches_naive(make):
    tok = make()
    code = "def g(y):\n    if y:\n        return 'é'\n    return 0\nprint(g(1))\n"
    offsets = tok.encode(code).offsets
    if make is byte_level_bpe:
        assert any("\n" in code[a:b] and b - a > 1 for a, b in offsets), (
            "some token crosses a line break"
        )
    for ranges in (
        [(0, 10)],
        [(5, 6), (20, 40)],
        [(0, len(code))],
        [],
        [(len(code) - 3, len(code))],
    ):
        assert token_mask(offsets, ranges) == naive_mask(offsets, ranges)


def test_fgo_masks_exactly_the_untaken_branch():
    code = "n = int(input())\nif n > 0:\n    print('pos')\nelse:\n    x = (1 +\n         2)\n    print('neg', x)\nprint('end')\n"
    result = run_tests(code, [StdioTest(input="5\n", output="pos\nend\n")], trace_lines=True)
    assert result.passed
    ranges = executed_ranges(code, result.executed_lines)
    executed_text = "".join(code[a:b] for a, b in ranges)
    assert executed_text == "n = int(input())\nif n > 0:\n    print('pos')\nprint('end')\n"
    # the else branch, continuation line included, is the only thing left out
    skipped = code[code.index("else") : code.index("print('end')")]
    assert skipped not in executed_text
    tok = byte_level_bpe()
    enc = tok.encode(code)
    mask = token_mask(enc.offsets, ranges)
    start, end = code.index("else"), code.index("print('end')")
    for (a, b), keep in zip(enc.offsets, mask):
        if start <= a and b <= end:
            assert not keep, f"token {code[a:b]!r} of the untaken branch is kept"
        if b <= start or a >= end:
            assert keep, f"token {code[a:b]!r} outside the branch is masked"


def test_fgo_else_keyword_kept_when_its_block_ran():
    code = "n = int(input())\nif n > 0:\n    print('pos')\nelse:\n    print('neg')\n"
    result = run_tests(code, [StdioTest(input="-1\n", output="neg\n")], trace_lines=True)
    executed_text = "".join(code[a:b] for a, b in executed_ranges(code, result.executed_lines))
    assert executed_text == "n = int(input())\nif n > 0:\nelse:\n    print('neg')\n"
