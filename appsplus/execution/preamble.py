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


def preamble_namespace() -> dict:
    """The preamble's names and values (runs the preamble's stdlib imports)."""
    ns: dict = {"__builtins__": builtins}
    exec(compile(PREAMBLE, "<preamble>", "exec"), ns)
    return {k: v for k, v in ns.items() if not k.startswith("__")}


def preamble_names() -> tuple[str, ...]:
    """Names the executor adds to `builtins` for programs (those Python does not already have)."""
    return tuple(sorted(n for n in preamble_namespace() if not hasattr(builtins, n)))
