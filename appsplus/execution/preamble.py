"""The names APPS programs see without importing them (stdlib only: the sandbox loads it too)."""

import builtins

# The APPS convention: programs see these names without importing them (LeetCode-style
# code uses `List` unimported). A worker imports them once and puts them into `builtins`.
PREAMBLE = """
import sys, os, io, math, time, heapq, bisect, itertools, functools, collections
import string, re, random, copy, operator, fractions
from typing import *
from collections import Counter, OrderedDict, defaultdict, deque, ChainMap
from itertools import accumulate, chain, combinations, combinations_with_replacement, permutations, product, groupby
from functools import lru_cache, reduce, cmp_to_key, cache
from math import ceil, floor, gcd, sqrt, log, log2, log10, exp, inf, pi, factorial, comb, perm
from heapq import heappush, heappop, heapify, heappushpop, heapreplace, nlargest, nsmallest
from bisect import bisect, bisect_left, bisect_right, insort, insort_left, insort_right
from fractions import Fraction
"""

# LiveCodeBench's convention (its grader's import preamble, `lcb_runner/evaluation/
# testing_util.py`): these modules star-imported in this order, then imported by name, and
# the recursion limit raised. Programs judged under the "livecodebench" rules run after it,
# in their own globals, with none of the APPS names above in builtins.
LCB_STAR_IMPORTS = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
    "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing",
)  # fmt: skip
LCB_RECURSION_LIMIT = 50000
LCB_PREAMBLE = (
    "".join(f"from {m} import *\n" for m in LCB_STAR_IMPORTS)
    + "".join(f"import {m}\n" for m in LCB_STAR_IMPORTS if m not in ("builtins", "typing"))
    + f"sys.setrecursionlimit({LCB_RECURSION_LIMIT})\n"
)
# its evaluator (compute_code_generation_metrics.py) raises the int-to-str digit limit once
LCB_INT_MAX_STR_DIGITS = 50000
# what a test under each convention runs in its globals first ("apps": the names are in builtins)
PREAMBLES = {
    "apps": "",
    "livecodebench": LCB_PREAMBLE + f"sys.set_int_max_str_digits({LCB_INT_MAX_STR_DIGITS})\n",
}


def preamble_namespace() -> dict:
    """The preamble's names and values (runs the preamble's stdlib imports)."""
    ns: dict = {"__builtins__": builtins}
    exec(compile(PREAMBLE, "<preamble>", "exec"), ns)
    return {k: v for k, v in ns.items() if not k.startswith("__")}


def preamble_names() -> tuple[str, ...]:
    """Names the executor adds to `builtins` for programs (those Python does not already have)."""
    return tuple(sorted(n for n in preamble_namespace() if not hasattr(builtins, n)))
