"""APPS-style suites: `apps+` (a built APPS+ folder), `sample` (the embedded sample, built) and `apps` (raw APPS).

Prompt: `appsplus.prompts.build_prompt(question, starter_code, kind)`, the APPS/CodeRL
format ending in "ANSWER:\\n", which a base model continues; completion-style stop
sequences: "\\nQUESTION:" and "\\nANSWER:". With a chat template the user message is
`CHAT_INSTRUCTION` followed by the same prompt. The program is the code extracted from
the text (`appsplus.extract`), judged by the executor under the APPS conventions.

Time limits: an APPS+ build measures a per-test limit for each record from its canonical
solution's reference runtimes (`time_limit_s`, in the build's runtimes file, joined in by
problem id and content hash); a record without one, and raw APPS, get
`APPS_TIME_LIMIT_S` (the 4 s of the APPS harness).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.bench.suites import Suite, SuiteError
from appsplus.curate.sample_dataset import built_sample
from appsplus.prompts import PROMPT_VERSION, build_prompt

logger = logging.getLogger(__name__)

APPS_STOP = ["\nQUESTION:", "\nANSWER:"]
APPS_TIME_LIMIT_S = 4.0
CHAT_INSTRUCTION = {
    "stdio": (
        "Solve the following programming problem in Python 3. The program reads from "
        "standard input and writes to standard output. Reply with the complete program "
        "in a single ```python code block."
    ),
    "call": (
        "Solve the following programming problem in Python 3 by completing the starter "
        "code: your function is called with each test's arguments and must return the "
        "answer. Reply with the complete code in a single ```python code block."
    ),
}


def apps_problem(
    problem_id: str,
    difficulty: str | None,
    question: str,
    starter_code: str,
    kind: str,
    fn_name: str | None,
    tests: list,
    time_limit_s: float,
    canonical: str | None,
) -> BenchProblem:
    """An APPS-format problem as a benchmark problem."""
    prompt = build_prompt(question, starter_code, kind)
    return BenchProblem(
        problem_id=problem_id,
        difficulty=difficulty,
        prompt=prompt,
        chat_prompt=f"{CHAT_INSTRUCTION[kind]}\n\n{prompt}",
        stop=list(APPS_STOP),
        assembly="apps",
        entry_point=fn_name,
        tests=tests,
        time_limit_s=time_limit_s,
        canonical_solution=canonical,
    )


# ---------------------------------------------------------------- apps+ (a build folder)


def manifest_hash(folder: Path) -> str:
    """The dataset hash of a build folder (see `appsplus.curate.manifest.dataset_hash`)."""
    from appsplus.curate.manifest import dataset_hash

    return dataset_hash(folder)


def _resolve_build(dataset: str) -> Path:
    folder = Path(dataset).expanduser()
    if folder.exists():
        return folder
    if dataset.count("/") == 1 and not dataset.startswith((".", "/")):
        try:
            from huggingface_hub import snapshot_download
        except ImportError as e:
            raise SuiteError("huggingface_hub is needed to load APPS+ from the hub") from e
        try:
            return Path(
                snapshot_download(
                    dataset,
                    repo_type="dataset",
                    allow_patterns=["*.parquet", "manifest.json", "README.md", "*.jsonl"],
                )
            )
        except Exception as e:  # offline, missing repo: say what to do instead
            raise SuiteError(
                f"cannot download the APPS+ dataset {dataset!r} from the hub ({type(e).__name__}: "
                f"{str(e)[:200]}); build one locally with `appsplus build` and pass --dataset DIR"
            ) from e
    raise SuiteError(f"--dataset {dataset}: no such folder (expected an `appsplus build` output)")


def read_records(folder: Path, split: str) -> list:
    """The validated `Record`s of one split of a build folder, sorted by problem id.

    The files must match the manifest's hashes. Reads the split's parquet file directly
    (`appsplus.dataset.iter_rows`), so the other split may be empty or absent.
    """
    from pydantic import ValidationError

    from appsplus.dataset import DatasetError, checked_manifest, data_files, iter_rows
    from appsplus.record import Record, natural_key

    try:
        checked_manifest(folder)
        files = data_files(folder)
    except ValueError as e:  # DatasetError is a ValueError; so is a missing manifest
        raise SuiteError(str(e) if isinstance(e, DatasetError) else f"{folder}: {e}") from e
    if split not in files:
        raise SuiteError(f"{folder}: no {split!r} split (files: {', '.join(files)})")
    records, errors = [], []
    try:
        for number, row in enumerate(iter_rows(Path(files[split])), start=1):
            try:
                records.append(Record.from_row(row))
            except (ValidationError, ValueError) as e:
                errors.append(f"row {number}: {str(e).splitlines()[0][:200]}")
    except DatasetError as e:
        raise SuiteError(str(e)) from e
    if errors:
        raise SuiteError(
            f"{files[split]}: {len(errors)} invalid record(s): {'; '.join(errors[:3])}"
        )
    if not records:
        raise SuiteError(f"{folder}: the build has no {split!r} records (try --split train)")
    return sorted(_with_runtimes(folder, records), key=lambda r: natural_key(r.problem_id))


def _with_runtimes(folder: Path, records: list) -> list:
    """Records with the build's measured runtimes joined in (where the content hash matches)."""
    try:
        from appsplus.dataset import read_runtimes
    except ImportError:  # a build layout that keeps runtimes inside the records
        return records
    try:
        measured = read_runtimes(folder)
    except ValueError as e:
        raise SuiteError(str(e)) from e
    joined = []
    for r in records:
        m = measured.get(r.problem_id)
        if r.time_limit_s is None and m is not None and m.content_hash == r.content_hash:
            r = r.model_copy(
                update={
                    "reference_runtimes_s": m.reference_runtimes_s,
                    "time_limit_s": m.time_limit_s,
                }
            )
        joined.append(r)
    return joined


def load_apps_plus(dataset: str | None, split: str = "test", name: str = "apps+") -> Suite:
    """The `split` of a built APPS+ folder (or hub id), rows validated, files checked against the manifest."""
    if not dataset:
        raise SuiteError("the apps+ suite needs --dataset DIR (the OUT of `appsplus build`)")
    folder = _resolve_build(dataset)
    records = read_records(folder, split)
    problems = [
        apps_problem(
            r.problem_id,
            r.difficulty,
            r.question,
            r.starter_code,
            r.kind,
            r.fn_name,
            list(r.tests),
            r.time_limit_s or APPS_TIME_LIMIT_S,
            r.canonical_solution,
        )
        for r in records
    ]
    unmeasured = sum(r.time_limit_s is None for r in records)
    if unmeasured:
        logger.warning(
            "%s: %d of %d records have no measured runtimes; they get %g s per test",
            folder,
            unmeasured,
            len(records),
            APPS_TIME_LIMIT_S,
        )
    info = SuiteInfo(
        name=name,
        dataset=dataset,
        dataset_hash=manifest_hash(folder),
        split=split,
        n_problems=len(problems),
        prompt_version=PROMPT_VERSION,
        description=(
            f"APPS+ {split} split of {folder.name} (verified; per-problem time limits"
            + (f"; {unmeasured} unmeasured at {APPS_TIME_LIMIT_S:g} s" if unmeasured else "")
            + ")"
        ),
    )
    return Suite(info=info, problems=problems)


# ---------------------------------------------------------------- sample (appsplus.curate.sample_dataset)


def load_sample(split: str = "test") -> Suite:
    """The `split` of the embedded sample, built as APPS+ (verified canonical solutions)."""
    suite = load_apps_plus(str(built_sample()), split, name="sample")
    info = suite.info.model_copy(
        update={
            "dataset": None,
            "description": f"the embedded appsplus sample, built as APPS+ ({split} split)",
        }
    )
    return Suite(info=info, problems=suite.problems)


# ---------------------------------------------------------------- apps (raw, unverified)


def load_apps(dataset: str | None, split: str = "test") -> Suite:
    """Raw APPS through appsplus's readers and normalize; rows without tests are left out (counted)."""
    from appsplus.curate.normalize import normalize
    from appsplus.record import natural_key
    from appsplus.schema import Problem
    from appsplus.sources import SourceError, open_source

    spec = dataset or "apps"
    try:
        source = open_source(spec, flag="--dataset")
        source.prepare()
        skipped: Counter[str] = Counter()
        problems = []
        for row in source.iter_rows():
            if row.split is not None and row.split != split:
                continue
            item = normalize(row)
            if not isinstance(item, Problem):
                skipped[item.reason.value] += 1
                continue
            if item.split != split:
                continue
            if not item.tests:
                skipped["no_tests"] += 1
                continue
            problems.append(
                apps_problem(
                    item.problem_id,
                    item.difficulty,
                    item.question,
                    item.starter_code,
                    item.kind,
                    item.fn_name,
                    list(item.tests),
                    APPS_TIME_LIMIT_S,
                    item.solutions[0] if item.solutions else None,
                )
            )
        revision = source.revision
    except SourceError as e:
        raise SuiteError(str(e)) from e
    if skipped:
        logger.warning("apps suite: left out %s", dict(skipped))
    problems.sort(key=lambda p: natural_key(p.problem_id))
    info = SuiteInfo(
        name="apps",
        dataset=dataset,
        dataset_hash=revision if revision.startswith("sha256:") else f"hub:{revision}",
        split=split,
        n_problems=len(problems),
        skipped=dict(sorted(skipped.items())),
        prompt_version=PROMPT_VERSION,
        description=(
            f"raw APPS {split} split from {source.name} (unverified tests; "
            f"{APPS_TIME_LIMIT_S:g} s per test)"
        ),
    )
    return Suite(info=info, problems=problems)
