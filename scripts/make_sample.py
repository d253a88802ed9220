"""Regenerate the embedded APPS-format sample (``apps_sample.jsonl`` + ``expected.json``).

Every problem, solution and test in this file was written by the appsplus authors for the
project's tests; none is copied from APPS or any other dataset.  The script is
deterministic and uses only the standard library::

    python scripts/make_sample.py

Expected outputs of the well-formed problems are computed by the small reference
functions below (``_ref_*``), then deliberately damaged where a row is meant to be broken.
The per-solution verdicts in ``expected.json`` are written down by hand here; they were
checked by actually running every solution against every test (2 s per test).
"""

from __future__ import annotations

import heapq
import json
import math
import textwrap
from collections import Counter
from itertools import groupby
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "appsplus" / "data" / "sample"
URL = "https://example.invalid/appsplus-sample/{}"


def code(src: str) -> str:
    """Dedent a solution written as an indented triple-quoted string."""
    return textwrap.dedent(src).strip("\n") + "\n"


def stdio_outputs(ref, inputs):
    return [ref(inp) for inp in inputs]


def call_outputs(ref, inputs, wrap=True):
    return [[ref(*args)] if wrap else ref(*args) for args in inputs]


# ---------------------------------------------------------------------------------------
# Reference implementations (used only to compute expected outputs)
# ---------------------------------------------------------------------------------------


def _ref_lamps(inp):
    toks = inp.split()
    n, m = int(toks[0]), int(toks[1])
    lamps = [0] * (n + 1)
    for i in range(m):
        lo, hi = int(toks[2 + 2 * i]), int(toks[3 + 2 * i])
        for j in range(lo, hi + 1):
            lamps[j] ^= 1
    return f"{sum(lamps)}\n"


def _ref_digital_root(inp):
    toks = inp.split()
    out = []
    for t in toks[1 : 1 + int(toks[0])]:
        x = int(t)
        while x >= 10:
            x = sum(map(int, str(x)))
        out.append(str(x))
    return "\n".join(out) + "\n"


def _ref_bakery(inp):
    toks = list(map(int, inp.split()))
    n = toks[0]
    if n == 0:
        return "EMPTY\n"
    t, out = 0, []
    for i in range(n):
        a, s = toks[1 + 2 * i], toks[2 + 2 * i]
        t = max(t, a) + s
        out.append(str(t))
    return "\n".join(out) + "\n"


def _ref_calm(nums, k):
    best = 0
    for i in range(len(nums)):
        for j in range(i, len(nums)):
            if max(nums[i : j + 1]) - min(nums[i : j + 1]) <= k:
                best = max(best, j - i + 1)
    return best


def _ref_avg_speed(inp):
    toks = list(map(int, inp.split()))
    n = toks[0]
    d = sum(toks[1 + 2 * i] for i in range(n))
    t = sum(toks[2 + 2 * i] for i in range(n))
    return "%.6f\n" % (d / t)


def _ref_words(inp):
    toks = inp.split()
    cnt = Counter(toks[1 : 1 + int(toks[0])])
    word, c = min(cnt.items(), key=lambda kv: (-kv[1], kv[0]))
    return f"{word} {c}\n"


def _ref_islands(grid):
    seen = set()
    count = 0
    for r, row in enumerate(grid):
        for c, ch in enumerate(row):
            if ch == "#" and (r, c) not in seen:
                count += 1
                stack = [(r, c)]
                seen.add((r, c))
                while stack:
                    y, x = stack.pop()
                    for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                        if (
                            0 <= ny < len(grid)
                            and 0 <= nx < len(grid[ny])
                            and grid[ny][nx] == "#"
                            and (ny, nx) not in seen
                        ):
                            seen.add((ny, nx))
                            stack.append((ny, nx))
    return count


def _ref_stack_machine(inp):
    lines = inp.strip("\n").split("\n")
    stack, out = [], []
    for line in lines[1 : 1 + int(lines[0])]:
        op = line.split()
        if op[0] == "push":
            stack.append(int(op[1]))
        elif op[0] == "print":
            if not stack:
                out.append("ERROR")
                break
            out.append(str(stack[-1]))
        elif op[0] == "pop":
            if not stack:
                out.append("ERROR")
                break
            stack.pop()
        else:
            if len(stack) < 2:
                out.append("ERROR")
                break
            b, a = stack.pop(), stack.pop()
            stack.append(a + b if op[0] == "add" else a * b)
    return "\n".join(out) + "\n"


def _ref_stairs(inp):
    n = int(inp)
    mod = 10**9 + 7
    a, b, c = 1, 0, 0  # ways(i), ways(i-1), ways(i-2)
    for _ in range(n):
        a, b, c = (a + b + c) % mod, a, b
    return f"{a}\n"


def _ref_cover(inp):
    toks = list(map(int, inp.split()))
    length, n = toks[0], toks[1]
    iv = sorted((toks[2 + 2 * i], toks[3 + 2 * i]) for i in range(n))
    reach, used, i = 0, 0, 0
    while reach < length:
        best = reach
        while i < n and iv[i][0] <= reach:
            best = max(best, iv[i][1])
            i += 1
        if best == reach:
            return "-1\n"
        reach, used = best, used + 1
    return f"{used}\n"


def _ref_merge(stones):
    n = len(stones)
    if n <= 1:
        return 0
    pre = [0]
    for x in stones:
        pre.append(pre[-1] + x)
    f = [[0] * n for _ in range(n)]
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            f[i][j] = min(f[i][k] + f[k + 1][j] for k in range(i, j)) + pre[j + 1] - pre[i]
    return f[0][n - 1]


def _ref_even_odd(inp):
    nums = list(map(int, inp.split()))[1:]
    even = sum(1 for x in nums if x % 2 == 0)
    return f"{even} {len(nums) - even}"  # deliberately no trailing newline


def _ref_palindrome(n):
    return n >= 0 and str(n) == str(n)[::-1]


def _ref_vowel_words(words):
    return sum(1 for w in words if w and w[0] in "aeiou" and w[-1] in "aeiou")


def _ref_rotate(inp):
    lines = inp.split("\n")
    n, _m = map(int, lines[0].split())
    grid = lines[1 : 1 + n]
    return "\n".join("".join(row) for row in zip(*grid[::-1], strict=False)) + "\n"


def _ref_circumradius(inp):
    x1, y1, x2, y2, x3, y3 = map(int, inp.split())
    a = ((x2 - x3) ** 2 + (y2 - y3) ** 2) ** 0.5
    b = ((x1 - x3) ** 2 + (y1 - y3) ** 2) ** 0.5
    c = ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5
    area2 = abs((x2 - x1) * (y3 - y1) - (x3 - x1) * (y2 - y1))
    return "%.6f\n" % (a * b * c / (2 * area2))


def _ref_max_gap(nums):
    s = sorted(nums)
    return max((b - a for a, b in zip(s, s[1:], strict=False)), default=0)


def _ref_depth(inp):
    lines = inp.split("\n")
    out = []
    for s in lines[1 : 1 + int(lines[0])]:
        d = best = 0
        for ch in s.strip():
            d += 1 if ch == "(" else -1
            best = max(best, d)
            if d < 0:
                break
        out.append(str(best if d == 0 else -1))
    return "\n".join(out) + "\n"


def _ref_prime_gap(inp):
    n = int(inp)
    primes = [p for p in range(2, n + 1) if all(p % q for q in range(2, int(p**0.5) + 1))]
    return f"{max((b - a for a, b in zip(primes, primes[1:], strict=False)), default=0)}\n"


def _ref_rle(s):
    return "".join(f"{ch}{len(list(g))}" for ch, g in groupby(s))


def _ref_dijkstra(inp):
    toks = list(map(int, inp.split()))
    n, m = toks[0], toks[1]
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v, w = toks[2 + 3 * i : 5 + 3 * i]
        adj[u].append((v, w))
        adj[v].append((u, w))
    dist = [None] * (n + 1)
    pq = [(0, 1)]
    while pq:
        d, u = heapq.heappop(pq)
        if dist[u] is not None:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] is None:
                heapq.heappush(pq, (d + w, v))
    return " ".join(str(-1 if d is None else d) for d in dist[1:]) + "\n"


def _ref_inversions(nums):
    return sum(1 for i in range(len(nums)) for j in range(i + 1, len(nums)) if nums[i] > nums[j])


def _ref_lcs(inp):
    s, t = inp.split()
    prev = [0] * (len(t) + 1)
    for ch in s:
        cur = [0]
        for j, ch2 in enumerate(t):
            cur.append(prev[j] + 1 if ch == ch2 else max(prev[j + 1], cur[j]))
        prev = cur
    return f"{prev[-1]}\n"


def _ref_celsius(inp):
    toks = list(map(int, inp.split()))
    return "".join("%.6f\n" % ((f - 32) * 5 / 9) for f in toks[1 : 1 + toks[0]])


def _ref_multiples(n):
    return sum(x for x in range(n) if x % 3 == 0 or x % 5 == 0)


def _ref_capitalize(inp):
    return " ".join(w[:1].upper() + w[1:].lower() for w in inp.split()) + "\n"


def _ref_running_max(nums):
    out, best = [], None
    for x in nums:
        best = x if best is None else max(best, x)
        out.append(best)
    return out


def _ref_sum_squares(inp):
    toks = list(map(int, inp.split()))
    return f"{sum(x * x for x in toks[1 : 1 + toks[0]])}\n"


# ---------------------------------------------------------------------------------------
# Problems.  Each entry: row fields + "expect" (what a correct executor must conclude).
# status codes per solution: pass | wrong_answer | runtime_error | timeout | syntax_error
# ---------------------------------------------------------------------------------------

P = []


def add(**kw):
    P.append(kw)


# ---- train / interview ------------------------------------------------------------------

inputs = [
    "5 2\n1 3\n2 5\n",
    "4 0\n",
    "1 3\n1 1\n1 1\n1 1\n",
    "10 3\n1 10\n1 10\n3 4\n",
    "7 4\n1 7\n2 6\n3 5\n4 4\n",
]
add(
    problem_id=1971,
    split="train",
    difficulty="interview",
    question=(
        "A corridor has n lamps numbered 1 to n, all switched off. The janitor performs m "
        "operations; operation i flips the state of every lamp from l_i to r_i inclusive.\n\n"
        "How many lamps are on after all operations?\n\n"
        "-----Input-----\n\n"
        "The first line contains two integers n and m (1 <= n <= 10^5, 0 <= m <= 10^5).\n"
        "Each of the next m lines contains two integers l_i and r_i (1 <= l_i <= r_i <= n).\n\n"
        "-----Output-----\n\n"
        "Print a single integer: the number of lamps that are on.\n\n"
        "-----Examples-----\n"
        "Input\n5 2\n1 3\n2 5\n\nOutput\n3\n\n"
        "-----Note-----\n\n"
        "After the first operation lamps 1, 2, 3 are on; the second flips lamps 2 to 5, "
        "leaving lamps 1, 4 and 5 on."
    ),
    solutions=[
        code("""
            import sys
            input = sys.stdin.readline
            n, m = map(int, input().split())
            lamps = [0] * (n + 1)
            for _ in range(m):
                l, r = map(int, input().split())
                for i in range(l, r + 1):
                    lamps[i] ^= 1
            print(sum(lamps))
        """),
        code("""
            import sys
            data = sys.stdin.read().split()
            n, m = int(data[0]), int(data[1])
            diff = [0] * (n + 2)
            for i in range(m):
                l = int(data[2 + 2 * i])
                r = int(data[3 + 2 * i])
                diff[l] += 1
                diff[r + 1] -= 1
            cur = on = 0
            for i in range(1, n + 1):
                cur += diff[i]
                on += cur % 2
            print(on)
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_lamps, inputs),
    status=["pass", "pass"],
    note="stdio; sys.stdin.readline and sys.stdin.read; two correct solutions",
)

inputs = ["3\n16\n942\n0\n", "1\n999999999999999999\n", "2\n1\n10\n", "4\n38\n0\n5\n123456789\n"]
add(
    problem_id=1972,
    split="train",
    difficulty="interview",
    question=(
        "The digital root of a non-negative integer is obtained by repeatedly replacing the "
        "number with the sum of its decimal digits until a single digit remains.\n\n"
        "Answer q queries: for each given x print its digital root.\n\n"
        "-----Input-----\n\n"
        "The first line contains q (1 <= q <= 10^4). Each of the next q lines contains one "
        "integer x (0 <= x <= 10^18).\n\n"
        "-----Output-----\n\n"
        "For each query print the digital root of x on its own line.\n\n"
        "-----Examples-----\n"
        "Input\n3\n16\n942\n0\n\nOutput\n7\n6\n0"
    ),
    solutions=[
        code("""
            q = int(input())
            for _ in range(q):
                x = int(input())
                while x >= 10:
                    x = sum(int(d) for d in str(x))
                print(x)
        """),
        code("""
            q = int(input())
            res = []
            for _ in range(q):
                x = int(input())
                res.append(1 + (x - 1) % 9)
            print("\\n".join(map(str, res)))
        """),
        code("""
            data = open(0).read().split()
            q = int(data[0])
            out = []
            for t in data[1:q + 1]:
                x = int(t)
                out.append(0 if x == 0 else 1 + (x - 1) % 9)
            print(*out, sep="\\n")
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_digital_root, inputs),
    status=["pass", "wrong_answer", "pass"],
    note="multi-line output; solution 1 forgets x = 0 (prints 9); solution 2 reads with open(0).read()",
)

inputs = ["3\n0 5\n1 2\n10 1\n", "0\n", "2\n3 3\n3 3\n", "1\n100 0\n", "4\n2 1\n2 1\n9 4\n9 1\n"]
add(
    problem_id=1973,
    split="train",
    difficulty="interview",
    question=(
        "A bakery has a single cashier. n customers arrive in order; customer i arrives at "
        "minute a_i and needs s_i minutes to be served. The cashier serves customers in "
        "arrival order and starts serving a customer as soon as both are free.\n\n"
        "For every customer print the minute at which they leave.\n\n"
        "-----Input-----\n\n"
        "The first line contains n (0 <= n <= 10^5). The next n lines contain a_i and s_i "
        "(0 <= a_i <= 10^9, 0 <= s_i <= 10^4); the a_i are non-decreasing.\n\n"
        "-----Output-----\n\n"
        "Print n lines, the leaving minute of each customer. If n = 0 print EMPTY.\n\n"
        "-----Examples-----\n"
        "Input\n3\n0 5\n1 2\n10 1\n\nOutput\n5\n7\n11\n\n"
        "Input\n0\n\nOutput\nEMPTY"
    ),
    solutions=[
        code("""
            n = int(input())
            if n == 0:
                print("EMPTY")
                return
            t = 0
            out = []
            for _ in range(n):
                a, s = map(int, input().split())
                t = max(t, a) + s
                out.append(t)
            print("\\n".join(map(str, out)))
        """),
        code("""
            import sys
            n = int(sys.stdin.readline())
            if not n:
                print("EMPTY")
                exit()
            t = 0
            for _ in range(n):
                a, s = map(int, sys.stdin.readline().split())
                if a > t:
                    t = a
                t += s
                print(t)
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_bakery, inputs),
    status=["pass", "pass"],
    note="solution 0 uses a top-level `return` (needs the APPS function wrapper), solution 1 calls exit()",
)

inputs = [
    [[8, 2, 4, 7], 4],
    [[10, 1, 2, 4, 7, 2], 5],
    [[4, 2, 2, 2, 4, 4, 2, 2], 0],
    [[1], 0],
    [[], 3],
    [[1, 3, 5, 7, 9], 10],
]
add(
    problem_id=1974,
    split="train",
    difficulty="interview",
    question=(
        "Given an integer array nums and an integer k, return the length of the longest "
        "contiguous subarray in which the difference between the largest and the smallest "
        "element is at most k.\n\n"
        "Example 1:\nInput: nums = [8,2,4,7], k = 4\nOutput: 2\n"
        "Explanation: [2,4] and [4,7] are the longest calm stretches.\n\n"
        "Example 2:\nInput: nums = [10,1,2,4,7,2], k = 5\nOutput: 4\n\n"
        "Constraints:\n\n0 <= nums.length <= 10^5\n1 <= nums[i] <= 10^9\n0 <= k <= 10^9"
    ),
    starter_code="class Solution:\n    def longestCalmStretch(self, nums: List[int], k: int) -> int:\n        ",
    fn_name="longestCalmStretch",
    solutions=[
        code("""
            class Solution:
                def longestCalmStretch(self, nums: List[int], k: int) -> int:
                    best = 0
                    for i in range(len(nums)):
                        lo = hi = nums[i]
                        for j in range(i, len(nums)):
                            lo = min(lo, nums[j])
                            hi = max(hi, nums[j])
                            if hi - lo > k:
                                break
                            best = max(best, j - i + 1)
                    return best
        """),
        code("""
            from collections import deque


            class Solution:
                def longestCalmStretch(self, nums: List[int], k: int) -> int:
                    mx, mn = deque(), deque()
                    left = best = 0
                    for right, x in enumerate(nums):
                        while mx and nums[mx[-1]] <= x:
                            mx.pop()
                        mx.append(right)
                        while mn and nums[mn[-1]] >= x:
                            mn.pop()
                        mn.append(right)
                        while nums[mx[0]] - nums[mn[0]] > k:
                            left += 1
                            if mx[0] < left:
                                mx.popleft()
                            if mn[0] < left:
                                mn.popleft()
                        best = max(best, right - left + 1)
                    return best
        """),
        code("""
            class Solution:
                def longestCalmStretch(self, nums: List[int], k: int) -> int:
                    if not nums:
                        return 0
                    best = cur = 1
                    for i in range(1, len(nums)):
                        if abs(nums[i] - nums[i - 1]) <= k:
                            cur += 1
                        else:
                            cur = 1
                        best = max(best, cur)
                    return best
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_calm, inputs),
    status=["pass", "pass", "wrong_answer"],
    note="class Solution with List[int] hints and no typing import; solution 2 only compares neighbours",
)

inputs = [
    "2\n10 1\n10 3\n",
    "3\n7 3\n1 1\n1 2\n",
    "1\n22 7\n",
    "4\n1 3\n2 3\n3 3\n4 3\n",
    "2\n100 2\n50 1\n",
]
add(
    problem_id=1975,
    split="train",
    difficulty="interview",
    question=(
        "A cyclist rode n segments of a route. Segment i is d_i kilometres long and took t_i "
        "hours. Find the average speed over the whole ride, i.e. total distance divided by "
        "total time.\n\n"
        "-----Input-----\n\n"
        "The first line contains n (1 <= n <= 1000). Each of the next n lines contains two "
        "integers d_i and t_i (1 <= d_i, t_i <= 1000).\n\n"
        "-----Output-----\n\n"
        "Print the average speed. Your answer is accepted if its absolute or relative error "
        "does not exceed 10^{-6}.\n\n"
        "-----Examples-----\n"
        "Input\n2\n10 1\n10 3\n\nOutput\n5.000000\n\n"
        "Input\n1\n22 7\n\nOutput\n3.142857"
    ),
    solutions=[
        code("""
            n = int(input())
            D = T = 0
            for _ in range(n):
                d, t = map(int, input().split())
                D += d
                T += t
            print(D / T)
        """),
        code("""
            import sys
            vals = list(map(int, sys.stdin.read().split()))
            n = vals[0]
            D = sum(vals[1:2 * n + 1:2])
            T = sum(vals[2:2 * n + 1:2])
            print("%.6f" % (D / T))
        """),
        code("""
            n = int(input())
            speeds = []
            for _ in range(n):
                d, t = map(int, input().split())
                speeds.append(d / t)
            print("%.6f" % (sum(speeds) / n))
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_avg_speed, inputs),
    status=["pass", "pass", "wrong_answer"],
    float_tolerance_needed=[0],
    note="float output: expected has 6 decimals, solution 0 prints repr (e.g. 3.142857142857143) and passes only with a float-tolerant comparator; solution 2 averages the speeds",
)

inputs = [
    "5\r\napple banana\r\napple\r\ncherry banana\r\n",
    "3\nzeta\nalpha\nzeta\n",
    "1\r\nsolo\r\n",
    "4\r\nb a\r\nc d\r\n",
]
add(
    problem_id=1976,
    split="train",
    difficulty="interview",
    question=(
        "You are given n words. Find the word that occurs most often. If several words occur "
        "the same maximal number of times, choose the lexicographically smallest of them.\n\n"
        "-----Input-----\n\n"
        "The first line contains n (1 <= n <= 10^5). The following lines contain the n words "
        "(lowercase Latin letters), separated by spaces and/or line breaks. The input may use "
        "Windows (CRLF) line endings.\n\n"
        "-----Output-----\n\n"
        "Print the word and the number of its occurrences, separated by a space.\n\n"
        "-----Examples-----\n"
        "Input\n5\napple banana\napple\ncherry banana\n\nOutput\napple 2"
    ),
    solutions=[
        code("""
            import sys
            from collections import Counter
            data = sys.stdin.read().split()
            n = int(data[0])
            cnt = Counter(data[1:n + 1])
            best = max(cnt.values())
            word = min(w for w, c in cnt.items() if c == best)
            print(word, best)
        """),
        code("""
            n = int(input())
            words = []
            while len(words) < n:
                words += input().split()
            freq = {}
            for w in words:
                freq[w] = freq.get(w, 0) + 1
            ans = sorted(freq.items(), key=lambda p: (-p[1], p[0]))[0]
            print(ans[0], ans[1])
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_words, inputs),
    status=["pass", "pass"],
    note="tests 0, 2 and 3 have CRLF line endings inside the stdin text",
)

inputs = [
    [["#.#", ".#.", "#.#"]],
    [["###", "#.#", "###"]],
    [[]],
    [["....."]],
    [["##..", "#..#", "..##"]],
    [["#"]],
]
add(
    problem_id=1977,
    split="train",
    difficulty="interview",
    question=(
        "A map is given as a list of equal-length strings; '#' is land and '.' is water. An "
        "island is a maximal group of land cells connected horizontally or vertically.\n\n"
        "Write a function count_islands(grid) that returns the number of islands.\n\n"
        "-----Input-----\n\n"
        "grid: a list of 0 to 200 strings, each of length 1 to 200, made of '#' and '.'.\n\n"
        "-----Output-----\n\n"
        "Return the number of islands as an integer.\n\n"
        "-----Examples-----\n\n"
        'count_islands(["#.#", ".#.", "#.#"]) == 5\n'
        'count_islands(["###", "#.#", "###"]) == 1'
    ),
    starter_code="def count_islands(grid):\n    ",
    fn_name="count_islands",
    solutions=[
        code("""
            import sys
            sys.setrecursionlimit(100000)


            def count_islands(grid):
                seen = set()

                def dfs(r, c):
                    if r < 0 or r >= len(grid) or c < 0 or c >= len(grid[r]):
                        return
                    if grid[r][c] != "#" or (r, c) in seen:
                        return
                    seen.add((r, c))
                    dfs(r + 1, c)
                    dfs(r - 1, c)
                    dfs(r, c + 1)
                    dfs(r, c - 1)

                count = 0
                for r in range(len(grid)):
                    for c in range(len(grid[r])):
                        if grid[r][c] == "#" and (r, c) not in seen:
                            count += 1
                            dfs(r, c)
                return count
        """),
        code("""
            from collections import deque


            def count_islands(grid):
                h = len(grid)
                w = len(grid[0]) if h else 0
                seen = [[False] * w for _ in range(h)]
                res = 0
                for i in range(h):
                    for j in range(w):
                        if grid[i][j] == "#" and not seen[i][j]:
                            res += 1
                            seen[i][j] = True
                            q = deque([(i, j)])
                            while q:
                                y, x = q.popleft()
                                for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                                    ny, nx = y + dy, x + dx
                                    if 0 <= ny < h and 0 <= nx < w and grid[ny][nx] == "#" and not seen[ny][nx]:
                                        seen[ny][nx] = True
                                        q.append((ny, nx))
                return res
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_islands, inputs),
    status=["pass", "pass"],
    note="call-based plain function (no class); one argument per call, outputs wrapped in a one-element list",
)

inputs = [
    "5\npush 3\npush 4\nadd\nprint\npop\n",
    "4\npush 2\nprint\nadd\nprint\n",
    "6\npush 2\npush 5\nmul\nprint\npush 1\nprint\n",
    "2\npop\nprint\n",
    "7\npush -4\npush 6\nadd\nprint\npush 3\nmul\nprint\n",
]
add(
    problem_id=1978,
    split="train",
    difficulty="interview",
    question=(
        "Simulate a tiny stack machine. It executes n commands, each one of:\n\n"
        "  push x - push the integer x;\n  pop - remove the top element;\n"
        "  add / mul - pop b, then pop a, and push a + b (or a * b);\n"
        "  print - print the top element without removing it.\n\n"
        "If a command needs more elements than the stack holds, print ERROR and stop the "
        "machine immediately (the remaining commands are ignored).\n\n"
        "-----Input-----\n\n"
        "The first line contains n (1 <= n <= 1000), then n lines with commands. |x| <= 1000.\n\n"
        "-----Output-----\n\n"
        "Print what the machine prints, one value per line.\n\n"
        "-----Examples-----\n"
        "Input\n4\npush 2\nprint\nadd\nprint\n\nOutput\n2\nERROR"
    ),
    solutions=[
        code("""
            n = int(input())
            st = []
            for _ in range(n):
                cmd = input().split()
                if cmd[0] == "push":
                    st.append(int(cmd[1]))
                    continue
                need = 2 if cmd[0] in ("add", "mul") else 1
                if len(st) < need:
                    print("ERROR")
                    exit()
                if cmd[0] == "pop":
                    st.pop()
                elif cmd[0] == "print":
                    print(st[-1])
                else:
                    b = st.pop()
                    a = st.pop()
                    st.append(a + b if cmd[0] == "add" else a * b)
        """),
        code("""
            import sys
            lines = sys.stdin.read().splitlines()
            st = []
            for line in lines[1:int(lines[0]) + 1]:
                op, *arg = line.split()
                try:
                    if op == "push":
                        st.append(int(arg[0]))
                    elif op == "pop":
                        st.pop()
                    elif op == "print":
                        print(st[-1])
                    else:
                        b, a = st.pop(), st.pop()
                        st.append(a + b if op == "add" else a * b)
                except IndexError:
                    print("ERROR")
                    sys.exit(0)
        """),
        code("""
            n = int(input())
            st = []
            for _ in range(n):
                cmd = input().split()
                if cmd[0] == "push":
                    st.append(int(cmd[1]))
                elif cmd[0] == "pop":
                    if st:
                        st.pop()
                    else:
                        print("ERROR")
                elif cmd[0] == "print":
                    print(st[-1] if st else "ERROR")
                elif len(st) >= 2:
                    b = st.pop()
                    a = st.pop()
                    st.append(a + b if cmd[0] == "add" else a * b)
                else:
                    print("ERROR")
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_stack_machine, inputs),
    status=["pass", "pass", "wrong_answer"],
    note="solution 0 stops with exit(), solution 1 with sys.exit(0); solution 2 keeps running after ERROR",
)

# ---- train / competition ----------------------------------------------------------------

inputs = ["1\n", "3\n", "4\n", "10\n", "40\n", "100000\n"]
add(
    problem_id=2301,
    split="train",
    difficulty="competition",
    question=(
        "A staircase has n steps. With one move you may climb 1, 2 or 3 steps. In how many "
        "different ways can you reach the top? Two ways differ if their sequences of moves "
        "differ. Print the answer modulo 10^9 + 7.\n\n"
        "-----Input-----\n\n"
        "A single integer n (1 <= n <= 10^5).\n\n"
        "-----Output-----\n\n"
        "Print the number of ways modulo 10^9 + 7.\n\n"
        "-----Examples-----\n"
        "Input\n3\n\nOutput\n4\n\n"
        "Input\n4\n\nOutput\n7"
    ),
    solutions=[
        code("""
            def ways(n):
                if n < 0:
                    return 0
                if n == 0:
                    return 1
                return ways(n - 1) + ways(n - 2) + ways(n - 3)


            print(ways(int(input())) % (10 ** 9 + 7))
        """),
        code("""
            from functools import lru_cache

            MOD = 10 ** 9 + 7


            @lru_cache(maxsize=None)
            def ways(n):
                if n < 0:
                    return 0
                if n == 0:
                    return 1
                return (ways(n - 1) + ways(n - 2) + ways(n - 3)) % MOD


            print(ways(int(input())))
        """),
        code("""
            n = int(input())
            MOD = 10 ** 9 + 7
            f = [0] * (n + 1)
            f[0] = 1
            for i in range(1, n + 1):
                f[i] = f[i - 1]
                if i >= 2:
                    f[i] += f[i - 2]
                if i >= 3:
                    f[i] += f[i - 3]
                f[i] %= MOD
            print(f[n])
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_stairs, inputs),
    status=["timeout", "runtime_error", "pass"],
    note="first passing solution is index 2: solution 0 is exponential (times out on n = 40), solution 1 hits RecursionError on n = 100000",
)

inputs = [
    "10 3\n0 5\n4 10\n5 10\n",
    "10 2\n0 4\n5 10\n",
    "5 0\n",
    "7 4\n0 2\n1 5\n2 4\n5 7\n",
    "6 1\n0 6\n",
    "3 2\n1 3\n0 1\n",
    "8 3\n1 8\n2 5\n3 4\n",
]
add(
    problem_id=2302,
    split="train",
    difficulty="competition",
    question=(
        "A road is the segment [0, L]. There are n street lights; light i illuminates the "
        "segment [a_i, b_i]. Choose the minimum number of lights whose segments together cover "
        "the whole road (segments that touch at a point are enough), or report that it is "
        "impossible.\n\n"
        "-----Input-----\n\n"
        "The first line contains L and n (1 <= L <= 10^9, 0 <= n <= 2*10^5). Each of the next n "
        "lines contains a_i and b_i (0 <= a_i < b_i <= L).\n\n"
        "-----Output-----\n\n"
        "Print the minimum number of lights, or -1 if the road cannot be covered.\n\n"
        "-----Examples-----\n"
        "Input\n10 3\n0 5\n4 10\n5 10\n\nOutput\n2\n\n"
        "Input\n10 2\n0 4\n5 10\n\nOutput\n-1"
    ),
    solutions=[
        code("""
            import sys


            def main():
                data = sys.stdin.buffer.read().split()
                L, n = int(data[0]), int(data[1])
                seg = sorted((int(data[2 + 2 * i]), int(data[3 + 2 * i])) for i in range(n))
                reach = 0
                used = 0
                i = 0
                while reach < L:
                    far = reach
                    while i < n and seg[i][0] <= reach:
                        far = max(far, seg[i][1])
                        i += 1
                    if far == reach:
                        print(-1)
                        return
                    reach = far
                    used += 1
                print(used)


            main()
        """),
        code("""
            L, n = map(int, input().split())
            seg = [tuple(map(int, input().split())) for _ in range(n)]
            seg.sort()
            if seg[0][0] > 0:
                print(-1)
            else:
                reach, used, i = 0, 0, 0
                while reach < L:
                    far = reach
                    while i < n and seg[i][0] <= reach:
                        far = max(far, seg[i][1])
                        i += 1
                    if far == reach:
                        break
                    reach = far
                    used += 1
                print(used if reach >= L else -1)
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_cover, inputs),
    status=["pass", "runtime_error"],
    note="solution 1 raises IndexError when n = 0 (test 2)",
)

inputs = [[[4, 1, 1, 4]], [[8, 7, 4, 2, 8, 1]], [[5]], [[1, 2, 3]], [[3, 3, 3, 3]], [[6, 4, 4, 6]]]
add(
    problem_id=2303,
    split="train",
    difficulty="competition",
    question=(
        "There are n piles of sand in a row; pile i weighs stones[i]. You may repeatedly merge "
        "two adjacent piles into one; the cost of a merge is the total weight of the two "
        "piles. Return the minimum total cost to merge all piles into a single pile.\n\n"
        "Example 1:\nInput: stones = [4,1,1,4]\nOutput: 18\n"
        "Explanation: merge [1,1] for 2, then [4,2] for 6, then [6,4] for 10.\n\n"
        "Example 2:\nInput: stones = [5]\nOutput: 0\n\n"
        "Constraints:\n\n1 <= stones.length <= 100\n1 <= stones[i] <= 1000"
    ),
    starter_code="class Solution:\n    def minCostMerge(self, stones: List[int]) -> int:\n        ",
    fn_name="minCostMerge",
    solutions=[
        code("""
            class Solution:
                def minCostMerge(self, stones: List[int]) -> int:
                    st = list(stones)
                    cost = 0
                    while len(st) > 1:
                        i = min(range(len(st) - 1), key=lambda j: st[j] + st[j + 1])
                        merged = st[i] + st[i + 1]
                        cost += merged
                        st[i:i + 2] = [merged]
                    return cost
        """),
        code("""
            class Solution:
                def minCostMerge(self, stones: List[int]) -> int:
                    n = len(stones)
                    pre = [0]
                    for s in stones:
                        pre.append(pre[-1] + s)
                    INF = float("inf")
                    dp = [[0] * n for _ in range(n)]
                    for length in range(2, n + 1):
                        for i in range(n - length + 1):
                            j = i + length - 1
                            best = INF
                            for k in range(i, j):
                                best = min(best, dp[i][k] + dp[k + 1][j])
                            dp[i][j] = best + pre[j + 1] - pre[i]
                    return dp[0][n - 1]
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_merge, inputs),
    status=["wrong_answer", "pass"],
    note="class Solution; greedy solution 0 is wrong on test 1, so the canonical solution is index 1",
)

# ---- train / introductory ---------------------------------------------------------------

inputs = ["5\n1 2 3 4 5\n", "3\n2 4 6\n", "1\n7\n", "6\n-1 -2 0 10 11 13\n"]
add(
    problem_id=4801,
    split="train",
    difficulty="introductory",
    question=(
        "Count how many of the given numbers are even and how many are odd.\n\n"
        "-----Input-----\n\n"
        "The first line contains n (1 <= n <= 100). The second line contains n integers "
        "a_i (-10^9 <= a_i <= 10^9).\n\n"
        "-----Output-----\n\n"
        "Print two integers: the number of even and the number of odd values.\n\n"
        "-----Examples-----\n"
        "Input\n5\n1 2 3 4 5\n\nOutput\n2 3"
    ),
    solutions=[
        code("""
            n = int(input())
            a = list(map(int, input().split()))
            e = len([x for x in a if x % 2 == 0])
            print(e, n - e)
        """),
        code("""
            input()
            even = odd = 0
            for x in input().split():
                if int(x) % 2:
                    odd += 1
                else:
                    even += 1
            print(str(even) + " " + str(odd))
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_even_odd, inputs),
    status=["pass", "pass"],
    note="expected outputs have NO trailing newline while the solutions print one",
)

inputs = [[121], [-121], [10], [0], [1221], [12321], [123]]
add(
    problem_id=4802,
    split="train",
    difficulty="introductory",
    question=(
        "Write a function is_palindrome_number(n) that returns True if the decimal "
        "representation of the integer n reads the same forwards and backwards, and False "
        "otherwise. Negative numbers are never palindromes.\n\n"
        "-----Input-----\n\n"
        "n: an integer, -2^31 <= n <= 2^31 - 1.\n\n"
        "-----Output-----\n\n"
        "Return a boolean.\n\n"
        "-----Examples-----\n\n"
        "is_palindrome_number(121) == True\nis_palindrome_number(-121) == False\n"
        "is_palindrome_number(10) == False"
    ),
    starter_code="def is_palindrome_number(n):\n\t",
    fn_name="is_palindrome_number",
    solutions=[
        code("""
            def is_palindrome_number(n):
            \treturn str(n) == str(n)[::-1]
        """),
        code("""
            def is_palindrome_number(n):
                if n < 0:
                    return False
                rev, m = 0, n
                while m:
                    rev = rev * 10 + m % 10
                    m //= 10
                return rev == n
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_palindrome, inputs),
    status=["pass", "pass"],
    note="boolean return values (JSON true/false); tab-indented starter code as in some APPS rows; solution 0 relies on str(-121) containing '-'",
)

inputs = [
    [["apple", "orange", "kiwi", "eve"]],
    [["sky", "tree"]],
    [[]],
    [["a", "io", "queue", "aqua"]],
    [["Ada", "area"]],
]
add(
    problem_id=4803,
    split="train",
    difficulty="introductory",
    question=(
        "Given a list of words, return how many of them start and end with a lowercase vowel "
        "(one of a, e, i, o, u). A one-letter word counts if that letter is a vowel.\n\n"
        'Example 1:\nInput: words = ["apple","orange","kiwi","eve"]\nOutput: 3\n\n'
        'Example 2:\nInput: words = ["sky","tree"]\nOutput: 0\n\n'
        "Constraints:\n\n0 <= words.length <= 1000\n1 <= words[i].length <= 20"
    ),
    starter_code="class Solution:\n    def countVowelWords(self, words: List[str]) -> int:\n        ",
    fn_name="countVowelWords",
    solutions=[
        code("""
            class Solution:
                def countVowelWords(self, words: List[str]) -> int:
                    v = set("aeiou")
                    return sum(1 for w in words if w[0] in v and w[-1] in v)
        """),
        code("""
            class Solution:
                def countVowelWords(self, words):
                    count = 0
                    for w in words:
                        if w[0] in "aeiouAEIOU" and w[-1] in "aeiouAEIOU":
                            count += 1
                    return count
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_vowel_words, inputs, wrap=False),
    status=["pass", "wrong_answer"],
    note="outputs are NOT wrapped in a one-element list (bare ints, as in some LeetCode-derived APPS rows); solution 1 counts uppercase vowels (fails test 4)",
)

# ---- test / interview -------------------------------------------------------------------

inputs = ["2 3\nabc\ndef\n", "1 1\nx\n", "3 2\nab\ncd\nef\n", "1 4\nwxyz\n"]
add(
    problem_id=2901,
    split="test",
    difficulty="interview",
    question=(
        "You are given a picture of n rows and m columns made of lowercase letters. Rotate it "
        "90 degrees clockwise.\n\n"
        "-----Input-----\n\n"
        "The first line contains n and m (1 <= n, m <= 100). Each of the next n lines contains "
        "m lowercase letters.\n\n"
        "-----Output-----\n\n"
        "Print the rotated picture: m lines of n letters each.\n\n"
        "-----Examples-----\n"
        "Input\n2 3\nabc\ndef\n\nOutput\nda\neb\nfc"
    ),
    solutions=[
        code("""
            n, m = map(int, input().split())
            g = [input().strip() for _ in range(n)]
            for row in zip(*g[::-1]):
                print("".join(row))
        """),
        code("""
            import sys
            lines = sys.stdin.read().split()
            n, m = int(lines[0]), int(lines[1])
            g = lines[2:2 + n]
            out = []
            for j in range(m):
                out.append("".join(g[n - 1 - i][j] for i in range(n)))
            sys.stdout.write("\\n".join(out) + "\\n")
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_rotate, inputs),
    status=["pass", "pass"],
    note="multi-line output",
)

inputs = ["0 0 3 0 0 4\n", "0 0 1 0 0 1\n", "-1 0 1 0 0 1\n", "0 0 7 1 3 5\n", "2 3 -4 1 5 -6\n"]
add(
    problem_id=2902,
    split="test",
    difficulty="interview",
    question=(
        "Given the integer coordinates of the three vertices of a non-degenerate triangle, "
        "find the radius of its circumscribed circle.\n\n"
        "-----Input-----\n\n"
        "One line with six integers x1 y1 x2 y2 x3 y3 (|coordinates| <= 1000). The points are "
        "not collinear.\n\n"
        "-----Output-----\n\n"
        "Print the radius. Answers with absolute or relative error up to 10^{-6} are "
        "accepted.\n\n"
        "-----Examples-----\n"
        "Input\n0 0 3 0 0 4\n\nOutput\n2.500000"
    ),
    solutions=[
        code("""
            import math
            x1, y1, x2, y2, x3, y3 = map(int, input().split())
            a = math.hypot(x2 - x3, y2 - y3)
            b = math.hypot(x1 - x3, y1 - y3)
            c = math.hypot(x1 - x2, y1 - y2)
            area = abs((x2 - x1) * (y3 - y1) - (x3 - x1) * (y2 - y1)) / 2
            print("{:.10f}".format(a * b * c / (4 * area)))
        """),
        code("""
            import math
            x1, y1, x2, y2, x3, y3 = map(int, input().split())
            a = math.dist((x2, y2), (x3, y3))
            b = math.dist((x1, y1), (x3, y3))
            c = math.dist((x1, y1), (x2, y2))
            s = (a + b + c) / 2
            area = math.sqrt(s * (s - a) * (s - b) * (s - c))
            print("%.6f" % (a * b * c / (2 * area)))
        """),
        code("""
            x1, y1, x2, y2, x3, y3 = map(int, input().split())
            d = 2 * (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
            ux = ((x1 * x1 + y1 * y1) * (y2 - y3) + (x2 * x2 + y2 * y2) * (y3 - y1) + (x3 * x3 + y3 * y3) * (y1 - y2)) / d
            uy = ((x1 * x1 + y1 * y1) * (x3 - x2) + (x2 * x2 + y2 * y2) * (x1 - x3) + (x3 * x3 + y3 * y3) * (x2 - x1)) / d
            print("%.6f" % (((ux - x1) ** 2 + (uy - y1) ** 2) ** 0.5))
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_circumradius, inputs),
    status=["pass", "wrong_answer", "pass"],
    float_tolerance_needed=[0],
    note="float geometry: solution 0 prints 10 decimals vs 6 in the expected output (float-tolerant comparison needed); solution 1 uses abc/(2S) instead of abc/(4S)",
)

inputs = [[[3, 6, 9, 1]], [[10]], [[]], [[1, 1, 1]], [[1, 10000000]], [[5, -3, 2, 20, 8]]]
add(
    problem_id=2903,
    split="test",
    difficulty="interview",
    question=(
        "Given an integer array nums, return the maximum difference between two successive "
        "elements in its sorted form. If the array contains fewer than two elements, return "
        "0.\n\n"
        "Example 1:\nInput: nums = [3,6,9,1]\nOutput: 3\n"
        "Explanation: The sorted form is [1,3,6,9]; both (3,6) and (6,9) differ by 3.\n\n"
        "Example 2:\nInput: nums = [10]\nOutput: 0\n\n"
        "Constraints:\n\n0 <= nums.length <= 10^5\n-10^9 <= nums[i] <= 10^9"
    ),
    starter_code="class Solution:\n    def maxGap(self, nums: List[int]) -> int:\n        ",
    fn_name="maxGap",
    solutions=[
        code("""
            class Solution:
                def maxGap(self, nums: List[int]) -> int:
                    s = sorted(nums)
                    return max(b - a for a, b in zip(s, s[1:]))
        """),
        code("""
            class Solution:
                def maxGap(self, nums: List[int]) -> int:
                    if len(nums) < 2:
                        return 0
                    nums.sort()
                    best = 0
                    for i in range(1, len(nums)):
                        best = max(best, nums[i] - nums[i - 1])
                    return best
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_max_gap, inputs),
    status=["runtime_error", "pass"],
    note="solution 0 raises ValueError (max() of an empty sequence) on arrays shorter than 2, so the canonical solution is index 1",
)

inputs = ["3\n(())\n()()\n(()\n", "1\n((()))\n", "2\n)(\n()\n", "4\n(()(()))\n))((\n((\n()\n"]
add(
    problem_id=2904,
    split="test",
    difficulty="interview",
    question=(
        "For each given string of round brackets, print its maximum nesting depth if it is a "
        "balanced bracket sequence, and -1 otherwise.\n\n"
        "-----Input-----\n\n"
        "The first line contains t (1 <= t <= 1000). Each of the next t lines contains a "
        "non-empty string of '(' and ')' of length at most 10^5.\n\n"
        "-----Output-----\n\n"
        "For each string print the answer on a separate line.\n\n"
        "-----Examples-----\n"
        "Input\n3\n(())\n()()\n(()\n\nOutput\n2\n1\n-1"
    ),
    solutions=[
        code("""
            import sys
            input = sys.stdin.readline
            t = int(input())
            for _ in range(t):
                s = input().strip()
                d = best = 0
                ok = True
                for ch in s:
                    if ch == "(":
                        d += 1
                        best = max(best, d)
                    else:
                        d -= 1
                        if d < 0:
                            ok = False
                            break
                print(best if ok and d == 0 else -1)
        """),
        code("""
            import sys
            t = int(sys.stdin.readline())
            res = []
            for _ in range(t):
                s = sys.stdin.readline().strip()
                depth = 0
                best = 0
                for ch in s:
                    depth += 1 if ch == "(" else -1
                    best = max(best, depth)
                res.append(best if depth == 0 else -1)
            print("\\n".join(map(str, res)))
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_depth, inputs),
    status=["pass", "wrong_answer"],
    note="solution 1 accepts ')(' because it only checks the final depth",
)

inputs = ["2\n", "3\n", "7\n", "30\n", "100\n", "1000\n"]
add(
    problem_id=2905,
    split="test",
    difficulty="interview",
    question=(
        "Consider all primes not exceeding n, in increasing order. Find the largest "
        "difference between two consecutive primes in this list. If there is only one prime, "
        "print 0.\n\n"
        "-----Input-----\n\n"
        "A single integer n (2 <= n <= 10^6).\n\n"
        "-----Output-----\n\n"
        "Print the largest gap.\n\n"
        "-----Examples-----\n"
        "Input\n30\n\nOutput\n6\n\n"
        "-----Note-----\n\n"
        "The primes up to 30 are 2, 3, 5, 7, 11, 13, 17, 19, 23, 29; the gap 23 -> 29 is the "
        "largest."
    ),
    solutions=[
        code("""
            n = int(input())
            sieve = bytearray([1]) * (n + 1)
            sieve[0] = sieve[1] = 0
            i = 2
            while i * i <= n:
                if sieve[i]:
                    sieve[i * i::i] = bytearray(len(range(i * i, n + 1, i)))
                i += 1
            prev = None
            best = 0
            for p in range(2, n + 1):
                if sieve[p]:
                    if prev is not None:
                        best = max(best, p - prev)
                    prev = p
            print(best)
        """),
        code("""
            def is_prime(x):
                d = 2
                while d * d <= x:
                    if x % d == 0:
                        return False
                    d += 1
                return True


            n = int(input())
            i = 2
            prev = 0
            best = 0
            while i <= n:
                if is_prime(i):
                    if prev:
                        best = max(best, i - prev)
                    prev = i
                    i += 1
                elif i % 2 == 0:
                    i += 1
            print(best)
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_prime_gap, inputs),
    status=["pass", "timeout"],
    note="solution 1 never advances past the odd composite 9 and loops forever for n >= 9",
)

inputs = [["aaabcc"], [""], ["abc"], ["zzzzzzzzzzzz"], ["aabbaa"]]
add(
    problem_id=2906,
    split="test",
    difficulty="interview",
    question=(
        "Run-length encoding replaces every maximal block of equal characters by the "
        "character followed by the length of the block. Write a function rle_encode(s) that "
        "returns the encoding of s.\n\n"
        "-----Input-----\n\n"
        "s: a string of 0 to 10^5 lowercase letters.\n\n"
        "-----Output-----\n\n"
        "Return the encoded string.\n\n"
        "-----Examples-----\n\n"
        'rle_encode("aaabcc") == "a3b1c2"\nrle_encode("") == ""'
    ),
    starter_code="def rle_encode(s):\n    ",
    fn_name="rle_encode",
    solutions=[
        code("""
            from itertools import groupby


            def rle_encode(s):
                return "".join(k + str(len(list(g))) for k, g in groupby(s))
        """),
        code("""
            def rle_encode(s):
                out = []
                i = 0
                while i < len(s):
                    j = i
                    while j < len(s) and s[j] == s[i]:
                        j += 1
                    out.append(s[i] + str(j - i))
                    i = j
                return "".join(out)
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_rle, inputs),
    status=["pass", "pass"],
    note="call-based plain function returning a string; includes the empty string",
)

# ---- test / competition -----------------------------------------------------------------

inputs = [
    "4 4\n1 2 5\n2 3 1\n1 3 9\n3 4 2\n",
    "3 1\n1 2 7\n",
    "1 0\n",
    "5 6\n1 2 2\n1 3 10\n2 3 3\n3 4 1\n4 5 6\n2 5 20\n",
]
add(
    problem_id=3971,
    split="test",
    difficulty="competition",
    question=(
        "A country has n towns and m two-way roads; road i connects towns u_i and v_i and "
        "takes w_i minutes to drive. For every town, find the shortest driving time from town "
        "1, or -1 if the town cannot be reached.\n\n"
        "-----Input-----\n\n"
        "The first line contains n and m (1 <= n <= 10^5, 0 <= m <= 2*10^5). Each of the next "
        "m lines contains u_i, v_i, w_i (1 <= u_i, v_i <= n, 1 <= w_i <= 10^9).\n\n"
        "-----Output-----\n\n"
        "Print n integers separated by spaces: the distance to towns 1, 2, ..., n.\n\n"
        "-----Examples-----\n"
        "Input\n4 4\n1 2 5\n2 3 1\n1 3 9\n3 4 2\n\nOutput\n0 5 6 8"
    ),
    solutions=[
        code("""
            import heapq
            import sys


            def main():
                data = sys.stdin.read().split()
                n, m = int(data[0]), int(data[1])
                adj = [[] for _ in range(n + 1)]
                p = 2
                for _ in range(m):
                    u, v, w = int(data[p]), int(data[p + 1]), int(data[p + 2])
                    p += 3
                    adj[u].append((v, w))
                    adj[v].append((u, w))
                INF = float("inf")
                dist = [INF] * (n + 1)
                dist[1] = 0
                pq = [(0, 1)]
                while pq:
                    d, u = heapq.heappop(pq)
                    if d > dist[u]:
                        continue
                    for v, w in adj[u]:
                        if d + w < dist[v]:
                            dist[v] = d + w
                            heapq.heappush(pq, (dist[v], v))
                print(" ".join(str(x) if x < INF else "-1" for x in dist[1:]))


            main()
        """),
        code("""
            n, m = map(int, input().split())
            edges = [tuple(map(int, input().split())) for _ in range(m)]
            dist = [None] * (n + 1)
            dist[1] = 0
            for _ in range(n):
                changed = False
                for u, v, w in edges:
                    for a, b in ((u, v), (v, u)):
                        if dist[a] is not None and (dist[b] is None or dist[a] + w < dist[b]):
                            dist[b] = dist[a] + w
                            changed = True
                if not changed:
                    break
            print(*[-1 if d is None else d for d in dist[1:]])
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_dijkstra, inputs),
    status=["pass", "pass"],
    note="Dijkstra and Bellman-Ford, both correct",
)

inputs = [[[2, 4, 1, 3, 5]], [[5, 4, 3, 2, 1]], [[1, 1, 1]], [[]], [[3, 1, 2, 3, 1]], [[7]]]
add(
    problem_id=3972,
    split="test",
    difficulty="competition",
    question=(
        "An inversion in an array nums is a pair of indices (i, j) with i < j and "
        "nums[i] > nums[j]. Return the number of inversions.\n\n"
        "Example 1:\nInput: nums = [2,4,1,3,5]\nOutput: 3\n"
        "Explanation: the inversions are (2,1), (4,1) and (4,3).\n\n"
        "Example 2:\nInput: nums = [1,1,1]\nOutput: 0\n\n"
        "Constraints:\n\n0 <= nums.length <= 10^5\n-10^9 <= nums[i] <= 10^9"
    ),
    starter_code="class Solution:\n    def countInversions(self, nums: List[int]) -> int:\n        ",
    fn_name="countInversions",
    solutions=[
        code("""
            class Solution:
                def countInversions(self, nums: List[int]) -> int:
                    def sort(a):
                        if len(a) <= 1:
                            return a, 0
                        mid = len(a) // 2
                        left, x = sort(a[:mid])
                        right, y = sort(a[mid:])
                        merged, inv = [], x + y
                        i = j = 0
                        while i < len(left) and j < len(right):
                            if left[i] <= right[j]:
                                merged.append(left[i])
                                i += 1
                            else:
                                merged.append(right[j])
                                inv += len(left) - i
                                j += 1
                        merged += left[i:] + right[j:]
                        return merged, inv

                    return sort(list(nums))[1]
        """),
        code("""
            class Solution:
                def countInversions(self, nums: List[int]) -> int:
                    ranks = {v: i + 1 for i, v in enumerate(sorted(set(nums)))}
                    tree = [0] * (len(ranks) + 1)
                    total = 0
                    for seen, x in enumerate(nums):
                        r = ranks[x]
                        k = r
                        not_greater = 0
                        while k > 0:
                            not_greater += tree[k]
                            k -= k & -k
                        total += seen - not_greater
                        k = r
                        while k < len(tree):
                            tree[k] += 1
                            k += k & -k
                    return total
        """),
        code("""
            class Solution:
                def countInversions(self, nums: List[int]) -> int:
                    c = 0
                    for i in range(len(nums)):
                        for j in range(i + 1, len(nums)):
                            if nums[i] >= nums[j]:
                                c += 1
                    return c
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_inversions, inputs),
    status=["pass", "pass", "wrong_answer"],
    note="merge sort and Fenwick tree; solution 2 counts equal pairs as inversions",
)

inputs = ["abcde\nace\n", "abc\nabc\n", "abc\ndef\n", "aggtab\ngxtxayb\n", "x\nxxxx\n"]
add(
    problem_id=3973,
    split="test",
    difficulty="competition",
    question=(
        "Given two strings s and t, find the length of their longest common subsequence.\n\n"
        "-----Input-----\n\n"
        "Two lines containing s and t (1 <= |s|, |t| <= 3000, lowercase Latin letters).\n\n"
        "-----Output-----\n\n"
        "Print one integer, the length of the longest common subsequence.\n\n"
        "-----Examples-----\n"
        "Input\nabcde\nace\n\nOutput\n3"
    ),
    solutions=[
        code("""
            s, t = open(0).read().split()
            if s == t:
                print(len(s))
                return
            n, m = len(s), len(t)
            dp = [[0] * (m + 1) for _ in range(n + 1)]
            for i in range(n):
                for j in range(m):
                    if s[i] == t[j]:
                        dp[i + 1][j + 1] = dp[i][j] + 1
                    else:
                        dp[i + 1][j + 1] = max(dp[i][j + 1], dp[i + 1][j])
            print(dp[n][m])
        """),
        code("""
            s = input().strip()
            t = input().strip()
            prev = [0] * (len(t) + 1)
            for a in s:
                cur = [0] * (len(t) + 1)
                for j, b in enumerate(t):
                    cur[j + 1] = prev[j] + 1 if a == b else max(prev[j + 1], cur[j])
                prev = cur
            print(prev[-1])
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_lcs, inputs),
    status=["pass", "pass"],
    note="solution 0 reads with open(0).read() and uses a top-level `return` (test 1 takes that branch)",
)

# ---- test / introductory ----------------------------------------------------------------

inputs = ["3\n32\n212\n100\n", "1\n-40\n", "2\n0\n451\n", "4\n98\n99\n31\n33\n"]
add(
    problem_id=4901,
    split="test",
    difficulty="introductory",
    question=(
        "Convert temperatures from degrees Fahrenheit to degrees Celsius using "
        "C = (F - 32) * 5 / 9.\n\n"
        "-----Input-----\n\n"
        "The first line contains n (1 <= n <= 100). Each of the next n lines contains an "
        "integer F (-500 <= F <= 1000).\n\n"
        "-----Output-----\n\n"
        "Print n lines with the converted temperatures. An absolute or relative error of "
        "10^{-6} is allowed.\n\n"
        "-----Examples-----\n"
        "Input\n3\n32\n212\n100\n\nOutput\n0.000000\n100.000000\n37.777778"
    ),
    solutions=[
        code("""
            n = int(input())
            for _ in range(n):
                f = int(input())
                print((f - 32) * 5 / 9)
        """),
        code("""
            n = int(input())
            for _ in range(n):
                print("%.6f" % ((int(input()) - 32) * 5 / 9))
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_celsius, inputs),
    status=["pass", "pass"],
    float_tolerance_needed=[0],
    note="multi-line float output; solution 0 prints repr (37.77777777777778, 0.0, -40.0) and needs the float-tolerant comparator",
)

inputs = [[10], [1], [16], [15], [1000], [3]]
add(
    problem_id=4902,
    split="test",
    difficulty="introductory",
    question=(
        "Write a function sum_of_multiples(n) that returns the sum of all positive integers "
        "below n that are divisible by 3 or by 5.\n\n"
        "-----Input-----\n\n"
        "n: an integer, 1 <= n <= 10^6.\n\n"
        "-----Output-----\n\n"
        "Return the sum as an integer.\n\n"
        "-----Examples-----\n\n"
        "sum_of_multiples(10) == 23   # 3 + 5 + 6 + 9\nsum_of_multiples(1) == 0"
    ),
    starter_code="def sum_of_multiples(n):\n    ",
    fn_name="sum_of_multiples",
    solutions=[
        code("""
            def sum_of_multiples(n):
                return sum(x for x in range(1, n + 1) if x % 3 == 0 or x % 5 == 0)
        """),
        code("""
            def sum_of_multiples(n):
                total = 0
                for x in range(n):
                    if x % 3 == 0 or x % 5 == 0:
                        total += x
                return total
        """),
        code("""
            def sum_of_multiples(n):
                def s(k):
                    m = (n - 1) // k
                    return k * m * (m + 1) // 2

                return s(3) + s(5) - s(15)
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_multiples, inputs),
    status=["wrong_answer", "pass", "pass"],
    note="solution 0 includes n itself (wrong when n is a multiple of 3 or 5), so the canonical solution is index 1",
)

inputs = [
    "hello world\n",
    "  the   quick brown fox  \n",
    "PYTHON\n",
    "o'neil and mcdonald\n",
    "a1b2 c3d4\n",
]
add(
    problem_id=4903,
    split="test",
    difficulty="introductory",
    question=(
        "You are given a line of text. Print its words, separated by single spaces, with the "
        "first character of each word in upper case and all the other characters in lower "
        "case. A word is a maximal sequence of non-space characters.\n\n"
        "-----Input-----\n\n"
        "One line of at most 1000 characters (letters, digits, apostrophes and spaces) with at "
        "least one word.\n\n"
        "-----Output-----\n\n"
        "Print the transformed line.\n\n"
        "-----Examples-----\n"
        "Input\n  the   quick brown fox  \n\nOutput\nThe Quick Brown Fox"
    ),
    solutions=[
        code("""
            print(" ".join(w.title() for w in input().split()))
        """),
        code("""
            words = input().split()
            print(" ".join(w[0].upper() + w[1:].lower() for w in words))
        """),
        code("""
            print(" ".join(w.capitalize() for w in input().split()))
        """),
    ],
    inputs=inputs,
    outputs=stdio_outputs(_ref_capitalize, inputs),
    status=["wrong_answer", "pass", "pass"],
    note="solution 0 uses str.title(), which also capitalises after apostrophes and digits",
)

inputs = [[[1, 3, 2, 5, 4]], [[]], [[-5, -7, -1]], [[2, 2, 2]], [[9, 1, 8, 10]]]
add(
    problem_id=4904,
    split="test",
    difficulty="introductory",
    question=(
        "Write a function running_max(nums) that returns a list whose i-th element is the "
        "maximum of nums[0..i].\n\n"
        "-----Input-----\n\n"
        "nums: a list of 0 to 10^5 integers.\n\n"
        "-----Output-----\n\n"
        "Return a list of the same length.\n\n"
        "-----Examples-----\n\n"
        "running_max([1, 3, 2, 5, 4]) == [1, 3, 3, 5, 5]\nrunning_max([]) == []"
    ),
    starter_code="def running_max(nums):\n    ",
    fn_name="running_max",
    solutions=[
        code("""
            from itertools import accumulate


            def running_max(nums):
                return list(accumulate(nums, max))
        """),
        code("""
            def running_max(nums):
                res = []
                cur = 0
                for x in nums:
                    cur = max(cur, x)
                    res.append(cur)
                return res
        """),
    ],
    inputs=inputs,
    outputs=call_outputs(_ref_running_max, inputs),
    status=["pass", "wrong_answer"],
    note="returns a list, so each expected output is a list inside the one-element wrapper; solution 1 starts from 0 and fails on negatives",
)


# ---------------------------------------------------------------------------------------
# Broken rows: every one has exactly one defect.
# ---------------------------------------------------------------------------------------

SIMPLE_IN = ["3\n1 2 3\n", "1\n-5\n", "4\n10 -20 30 -20\n"]


def simple(what, expr, ref):
    """A one-line aggregate problem over n integers: (question, solution, inputs, outputs)."""
    q = (
        f"You are given n integers. Print {what}.\n\n-----Input-----\n\nThe first line contains "
        "n (1 <= n <= 100), the second line n integers a_i (|a_i| <= 10^9).\n\n"
        "-----Output-----\n\nPrint one integer.\n\n-----Examples-----\n"
        f"Input\n3\n1 2 3\n\nOutput\n{ref([1, 2, 3])}"
    )
    sol = f"input()\na = list(map(int, input().split()))\nprint({expr})\n"
    outs = [f"{ref(list(map(int, inp.split()))[1:])}\n" for inp in SIMPLE_IN]
    return q, sol, list(SIMPLE_IN), outs


SUM_Q, _SUM_SOL, SUM_IN, SUM_OUT = simple("their sum", "sum(a)", sum)
MAX_Q, MAX_SOL, MAX_IN, MAX_OUT = simple("the largest of them", "max(a)", max)
MIN_Q, MIN_SOL, MIN_IN, MIN_OUT = simple("the smallest of them", "min(a)", min)
NEG_Q, NEG_SOL, NEG_IN, NEG_OUT = simple(
    "how many of them are negative",
    "sum(1 for x in a if x < 0)",
    lambda a: sum(1 for x in a if x < 0),
)
ABS_Q, ABS_SOL, ABS_IN, ABS_OUT = simple(
    "the sum of their absolute values", "sum(abs(x) for x in a)", lambda a: sum(abs(x) for x in a)
)
DIST_Q, DIST_SOL, DIST_IN, DIST_OUT = simple(
    "the number of distinct values among them", "len(set(a))", lambda a: len(set(a))
)
RANGE_Q, RANGE_SOL, RANGE_IN, RANGE_OUT = simple(
    "the difference between the largest and the smallest of them",
    "max(a) - min(a)",
    lambda a: max(a) - min(a),
)
LAST_Q, LAST_SOL, LAST_IN, LAST_OUT = simple(
    "the sum of the first and the last of them", "a[0] + a[-1]", lambda a: a[0] + a[-1]
)
PROD_Q, _PROD_SOL, PROD_IN, PROD_OUT = simple("their product", "prod(a)", math.prod)

BROKEN = []


def broken(reason, note, raw=None, **row):
    BROKEN.append({"reason": reason, "note": note, "raw": raw, "row": row})


def io_str(inputs, outputs, fn_name=None):
    d = {"inputs": inputs, "outputs": outputs}
    if fn_name:
        d["fn_name"] = fn_name
    return json.dumps(d)


broken(
    "no_solutions",
    'solutions is "" (question and tests only)',
    problem_id=4810,
    split="train",
    difficulty="introductory",
    question=SUM_Q,
    solutions="",
    input_output=io_str(SUM_IN, SUM_OUT),
    starter_code="",
)

inputs = ["abc\n", "racecar\n", "x\n"]
broken(
    "no_solutions",
    'solutions is "[]" (an empty list)',
    problem_id=2910,
    split="test",
    difficulty="interview",
    question=(
        "Print the given word reversed.\n\n-----Input-----\n\nOne word of 1 to 100 lowercase "
        "letters.\n\n-----Output-----\n\nPrint the word reversed.\n\n-----Examples-----\n"
        "Input\nabc\n\nOutput\ncba"
    ),
    solutions="[]",
    input_output=io_str(inputs, [s.strip()[::-1] + "\n" for s in inputs]),
    starter_code="",
)

broken(
    "no_tests",
    'input_output is ""',
    problem_id=1980,
    split="train",
    difficulty="interview",
    question=(
        "Given n and a permutation of 1..n, print the number of its fixed points.\n\n"
        "-----Input-----\n\nThe first line contains n (1 <= n <= 10^5), the second the "
        "permutation.\n\n-----Output-----\n\nPrint one integer.\n\n-----Examples-----\n"
        "Input\n3\n1 3 2\n\nOutput\n1"
    ),
    solutions=json.dumps(
        [
            code("""
        n = int(input())
        p = list(map(int, input().split()))
        print(sum(1 for i, x in enumerate(p, 1) if i == x))
    """)
        ]
    ),
    input_output="",
    starter_code="",
)

broken(
    "no_tests",
    'input_output is {"inputs": [], "outputs": []}',
    problem_id=3980,
    split="test",
    difficulty="competition",
    question=(
        "Given n, print the number of trailing zeros of n!.\n\n-----Input-----\n\nOne integer "
        "n (0 <= n <= 10^18).\n\n-----Output-----\n\nPrint the number of trailing zeros.\n\n"
        "-----Examples-----\nInput\n25\n\nOutput\n6"
    ),
    solutions=json.dumps(
        [
            code("""
        n = int(input())
        z = 0
        while n:
            n //= 5
            z += n
        print(z)
    """)
        ]
    ),
    input_output=json.dumps({"inputs": [], "outputs": []}),
    starter_code="",
)

broken(
    "malformed_input_output",
    "input_output is truncated JSON",
    problem_id=2310,
    split="train",
    difficulty="competition",
    question=MAX_Q,
    solutions=json.dumps([MAX_SOL]),
    input_output=io_str(MAX_IN, MAX_OUT)[:-25],
    starter_code="",
)

broken(
    "malformed_solutions",
    "solutions is not valid JSON (unterminated list)",
    problem_id=4910,
    split="test",
    difficulty="introductory",
    question=MIN_Q,
    solutions=json.dumps([MIN_SOL])[:-1] + ", ",
    input_output=io_str(MIN_IN, MIN_OUT),
    starter_code="",
)

broken(
    "malformed_solutions",
    "solutions is valid JSON but a list of non-strings ([42, null])",
    problem_id=1981,
    split="train",
    difficulty="interview",
    question=NEG_Q,
    solutions="[42, null]",
    input_output=io_str(NEG_IN, NEG_OUT),
    starter_code="",
)

broken(
    "io_length_mismatch",
    "3 inputs but only 2 outputs",
    problem_id=2911,
    split="test",
    difficulty="interview",
    question=ABS_Q,
    solutions=json.dumps([ABS_SOL]),
    input_output=io_str(ABS_IN, ABS_OUT[:2]),
    starter_code="",
)

broken(
    "invalid_field",
    'problem_id is the string "abc" (otherwise a good row)',
    problem_id="abc",
    split="train",
    difficulty="introductory",
    question=DIST_Q,
    solutions=json.dumps([DIST_SOL]),
    input_output=io_str(DIST_IN, DIST_OUT),
    starter_code="",
)

broken(
    "invalid_field",
    'difficulty is "legendary" (otherwise a good row)',
    problem_id=3981,
    split="test",
    difficulty="legendary",
    question=RANGE_Q,
    solutions=json.dumps([RANGE_SOL]),
    input_output=io_str(RANGE_IN, RANGE_OUT),
    starter_code="",
)

inputs = ["4\n3 1 4 1\n", "1\n7\n", "5\n5 4 3 2 1\n", "3\n2 2 2\n", "2\n9 8\n"]
broken(
    "no_passing_solution",
    "3 solutions, none passes: 0 wrong answer (keeps the first maximum, fails the tie in test 3), 1 runtime error (a.index(m, 1) raises ValueError when the maximum is first, test 1), 2 infinite loop (test 0)",
    statuses=["wrong_answer", "runtime_error", "timeout"],
    problem_id=1982,
    split="train",
    difficulty="interview",
    question=(
        "Given n integers, print the 1-based position of the largest one. If the largest value "
        "occurs several times, print the largest such position.\n\n-----Input-----\n\n"
        "The first line contains n (1 <= n <= 10^5), the second n integers a_i "
        "(1 <= a_i <= 10^9).\n\n-----Output-----\n\nPrint one integer.\n\n"
        "-----Examples-----\nInput\n4\n3 1 4 1\n\nOutput\n3\n\nInput\n3\n2 2 2\n\nOutput\n3"
    ),
    solutions=json.dumps(
        [
            code("""
            n = int(input())
            a = list(map(int, input().split()))
            best = 0
            for i in range(n):
                if a[i] > a[best]:
                    best = i
            print(best + 1)
        """),
            code("""
            n = int(input())
            a = list(map(int, input().split()))
            m = max(a)
            pos = [i for i in range(n) if a[i] == m]
            print(pos[-1] + 1 if len(pos) > 1 else a.index(m, 1) + 1)
        """),
            code("""
            n = int(input())
            a = list(map(int, input().split()))
            i = n - 1
            while a[i] != max(a):
                if a[i] < a[i - 1]:
                    continue
                i -= 1
            print(i + 1)
        """),
        ]
    ),
    input_output=io_str(inputs, ["3\n", "1\n", "1\n", "3\n", "1\n"]),
    starter_code="",
)

broken(
    "no_passing_solution",
    "both solutions are Python 2 code (print statement), a SyntaxError under Python 3",
    statuses=["syntax_error", "syntax_error"],
    problem_id=4911,
    split="test",
    difficulty="introductory",
    question=PROD_Q,
    solutions=json.dumps(
        [
            code("""
            raw_input()
            print reduce(lambda x, y: x * y, map(int, raw_input().split()))
        """),
            code("""
            raw_input()
            r = 1
            for x in raw_input().split():
                r *= int(x)
            print r
        """),
        ]
    ),
    input_output=io_str(PROD_IN, PROD_OUT),
    starter_code="",
)

inputs = ["3\n1 2 3\n", "1\n-4\n", "2\n10 10\n", "4\n0 0 0 1\n", "5\n-1 -2 3 4 5\n"]
outputs = stdio_outputs(_ref_sum_squares, inputs)
DISPUTED_TEST = 2
CONSENSUS = outputs[DISPUTED_TEST]
outputs[DISPUTED_TEST] = "210\n"  # wrong on purpose: 10^2 + 10^2 = 200
broken(
    "disputed_expected_output",
    f"test {DISPUTED_TEST} expects 210 but 10^2 + 10^2 = 200; all 3 solutions print 200 there and pass every other test",
    statuses=["wrong_answer", "wrong_answer", "wrong_answer"],
    disputed_test_index=DISPUTED_TEST,
    consensus_output=CONSENSUS,
    problem_id=2912,
    split="test",
    difficulty="interview",
    question=(
        "Print the sum of the squares of n integers.\n\n-----Input-----\n\nThe first line "
        "contains n (1 <= n <= 100), the second n integers a_i (|a_i| <= 1000).\n\n"
        "-----Output-----\n\nPrint one integer.\n\n-----Examples-----\n"
        "Input\n3\n1 2 3\n\nOutput\n14"
    ),
    solutions=json.dumps(
        [
            code("""
            input()
            print(sum(int(x) ** 2 for x in input().split()))
        """),
            code("""
            import sys
            vals = list(map(int, sys.stdin.read().split()))[1:]
            total = 0
            for v in vals:
                total += v * v
            print(total)
        """),
            code("""
            n = int(input())
            a = [int(x) for x in input().split()]
            print(sum(map(lambda x: x * x, a[:n])))
        """),
        ]
    ),
    input_output=io_str(inputs, outputs),
    starter_code="",
)

broken(
    "malformed_row",
    "truncated JSON object",
    raw=b'{"problem_id": 2913, "split": "test", "question": "Print the numb',
)
broken(
    "malformed_row",
    "valid JSON, but an array rather than an object",
    raw=b'[2914, "test", "interview"]',
)

_bad = json.dumps(
    {
        "problem_id": 4812,
        "split": "train",
        "difficulty": "introductory",
        "question": LAST_Q.replace("Print the sum", "Print the sum @@"),
        "solutions": json.dumps([LAST_SOL]),
        "input_output": io_str(LAST_IN, LAST_OUT),
        "url": URL.format(4812),
        "starter_code": "",
    }
).encode("ascii")
broken(
    "invalid_encoding",
    "bytes 0xff 0xfe inside the question string (problem_id 4812 in the raw bytes); otherwise a good row",
    raw=_bad.replace(b"@@", b"\xff\xfe"),
)


# ---------------------------------------------------------------------------------------
# Assemble
# ---------------------------------------------------------------------------------------

FIELDS = [
    "problem_id",
    "question",
    "solutions",
    "input_output",
    "difficulty",
    "url",
    "starter_code",
    "split",
]


def good_line(p):
    io = {"inputs": p["inputs"], "outputs": p["outputs"]}
    if "fn_name" in p:
        io["fn_name"] = p["fn_name"]
    row = {
        "problem_id": p["problem_id"],
        "question": p["question"],
        "solutions": json.dumps(p["solutions"]),
        "input_output": json.dumps(io),
        "difficulty": p["difficulty"],
        "url": URL.format(p["problem_id"]),
        "starter_code": p.get("starter_code", ""),
        "split": p["split"],
    }
    status = p["status"]
    passing = [i for i, s in enumerate(status) if s == "pass"]
    exp = {
        "problem_id": p["problem_id"],
        "outcome": "kept",
        "canonical_index": passing[0],
        "passing_solutions": passing,
        "solution_status": status,
        "split": p["split"],
        "difficulty": p["difficulty"],
        "kind": "call" if "fn_name" in p else "stdio",
        "n_tests": len(p["inputs"]),
        "note": p["note"],
    }
    if "float_tolerance_needed" in p:
        exp["float_tolerance_needed"] = p["float_tolerance_needed"]
    return json.dumps({k: row[k] for k in FIELDS}).encode("ascii"), exp


def broken_line(b):
    exp = {
        "problem_id": None,
        "outcome": b["reason"],
        "canonical_index": None,
        "passing_solutions": [],
        "note": b["note"],
    }
    if b["raw"] is not None:
        return b["raw"], exp
    row = dict(b["row"])
    for extra in ("statuses", "disputed_test_index", "consensus_output"):
        if extra in row:
            key = "solution_status" if extra == "statuses" else extra
            exp[key] = row.pop(extra)
    pid = row["problem_id"]
    if isinstance(pid, int):
        exp["problem_id"] = pid
    row["url"] = URL.format(pid)
    row.setdefault("starter_code", "")
    exp["split"] = row["split"]
    exp["difficulty"] = row["difficulty"]
    return json.dumps({k: row[k] for k in FIELDS}).encode("ascii"), exp


# Interleave: after every second good row, one broken row (the rest at the end).
ORDER = []
good = list(P)
# put the unparseable lines in the middle of the file, not at its end
BAD_ORDER = [0, 2, 13, 4, 5, 1, 15, 3, 6, 7, 14, 8, 9, 10, 11, 12]
assert sorted(BAD_ORDER) == list(range(len(BROKEN)))
bad = [BROKEN[i] for i in BAD_ORDER]
while good or bad:
    for _ in range(2):
        if good:
            ORDER.append(("good", good.pop(0)))
    if bad:
        ORDER.append(("bad", bad.pop(0)))


def main():
    lines, rows = [], []
    for n, (kind, item) in enumerate(ORDER, 1):
        raw, exp = good_line(item) if kind == "good" else broken_line(item)
        assert b"\n" not in raw and b"\r" not in raw
        lines.append(raw)
        rows.append({"line": n, **exp})
    (HERE / "apps_sample.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    summary = Counter(r["outcome"] for r in rows)
    expected = {
        "file": "apps_sample.jsonl",
        "comparison": "stdout compared line by line after stripping trailing whitespace; "
        "numeric tokens compared with abs/rel tolerance 1e-6; call-based results compared "
        "with outputs[i][0] when outputs[i] is a one-element list wrapper, else with outputs[i]",
        "timeout_s": 2,
        "summary": dict(sorted(summary.items())),
        "rows": rows,
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} rows: {dict(sorted(summary.items()))}")


if __name__ == "__main__":
    main()
