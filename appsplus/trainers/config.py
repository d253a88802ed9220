"""Trainer configs: read YAML/JSON, apply `--set key=value` overrides, explain mistakes, save.

    cfg = load_config(StepCoderConfig, "cfg.yaml", ["ppo_epochs=2", "rewards.passed=2.0"])

Values of `--set` are parsed as YAML scalars/lists (`true`, `3`, `1e-5`, `[a, b]`); dotted
keys reach nested models. Unknown keys are errors (every config has extra="forbid"). Every
mistake (a missing or unreadable file, an unknown key, a bad value, a model folder that
does not exist) is a `ConfigError` (an `AppsplusError`) whose message is one line naming
the key; the trainer CLIs (`config_parser` + `config_from_cli`, `main` decorated with
`appsplus.errors.exit_on_error`) print it and exit 2. `config_help` lists every
key with its type, default and meaning, from the config class itself.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from appsplus.errors import AppsplusError

C = TypeVar("C", bound=BaseModel)


class ConfigError(AppsplusError, ValueError):
    """A config mistake; the message is one line that names the key."""

    exit_status = 2  # a usage mistake, as click and argparse exit for bad options


# --------------------------------------------------------------------------- reading
def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """`data` with each 'a.b=value' of `overrides` set (values parsed as YAML)."""
    data = json.loads(json.dumps(data))  # a deep copy
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        *parents, leaf = key.strip().split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part!r} is not a section")
        try:
            node[leaf] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as e:
            raise ConfigError(
                f"--set {key}: {text!r} is not a YAML value ({_first_line(e)})"
            ) from None
    return data


def read_config_file(path: str | Path) -> dict:
    """The mapping held by a YAML/JSON config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"no such config file: {path}" if not path.exists() else f"{path}: not a file"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read the config ({_first_line(e)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must hold a mapping of keys to values")
    return data


def load_config(cls: type[C], path: str | Path | None, overrides: list[str] = ()) -> C:
    """Validate `cls` from a YAML/JSON file (optional) plus `--set` overrides."""
    data = read_config_file(path) if path is not None else {}
    return validate_config(cls, apply_overrides(data, list(overrides)))


def validate_config(cls: type[C], data: dict) -> C:
    """`cls` from plain data; a ConfigError (one line, every problem) when invalid."""
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError("; ".join(_explain(cls, err) for err in e.errors())) from None


def _explain(cls: type[BaseModel], err: dict) -> str:
    """One pydantic error as a sentence that names the key (and the valid ones)."""
    loc = [str(part) for part in err["loc"]]
    key = ".".join(loc)
    if err["type"] == "extra_forbidden":
        owner = _model_at(cls, loc[:-1])
        valid = list(owner.model_fields) if owner else []
        prefix = "".join(f"{p}." for p in loc[:-1])
        close = difflib.get_close_matches(loc[-1], valid, n=1)
        hint = f" (did you mean {prefix + close[0]!r}?)" if close else ""
        keys = ", ".join(prefix + v for v in valid)
        return f"unknown config key {key!r}{hint}; valid keys: {keys}"
    if err["type"] == "missing":
        field = _field_at(cls, loc)
        meaning = f" ({field.description})" if field is not None and field.description else ""
        return f"missing config key {key!r}{meaning}: set it in --config or with --set {key}=..."
    return f"config key {key!r}: {err['msg']} (got {err.get('input')!r})"


def _model_at(cls: type[BaseModel], loc: list[str]) -> type[BaseModel] | None:
    """The nested config class at dotted location `loc` (None when it is not one)."""
    model: Any = cls
    for part in loc:
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return None
        model = field.annotation
    return model if _is_model(model) else None


def _field_at(cls: type[BaseModel], loc: list[str]):
    owner = _model_at(cls, loc[:-1])
    return owner.model_fields.get(loc[-1]) if owner and loc else None


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# --------------------------------------------------------------------------- locations
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def check_model_location(key: str, value: str, needs: tuple[str, ...] = ("config.json",)) -> None:
    """Raise ConfigError unless `value` is a folder holding one of `needs`, or a hub id
    that can be fetched (offline: one in the hub cache). Loads nothing."""
    path = Path(value).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{key}: {value} is a file, not a model folder")
        if not any((path / name).is_file() for name in needs):
            raise ConfigError(f"{key}: {value} is not a model folder (no {' or '.join(needs)})")
        return
    first = Path(value).parts[0] if Path(value).parts else ""
    local = not _HUB_ID.match(value) or (len(Path(value).parts) > 1 and Path(first).is_dir())
    if local:
        raise ConfigError(f"{key}: no such folder: {value}")
    from huggingface_hub import constants, try_to_load_from_cache

    if constants.HF_HUB_OFFLINE and not any(
        isinstance(try_to_load_from_cache(value, name), str) for name in needs
    ):
        raise ConfigError(
            f"{key}: no such folder: {value}, and no cached hub model of that id "
            "(HF_HUB_OFFLINE is set)"
        )


def check_locations(cfg: BaseModel) -> None:
    """Check the model, tokenizer and data locations a config names (see
    `check_model_location`); 'sample' data is embedded."""
    for key in ("model", "critic_backbone"):
        if getattr(cfg, key, None):  # a LoRA adapter folder stands for its base + adapter
            needs = ("config.json", "adapter_config.json") if key == "model" else ("config.json",)
            check_model_location(key, getattr(cfg, key), needs)
    if getattr(cfg, "tokenizer", None):
        check_model_location("tokenizer", cfg.tokenizer, ("tokenizer_config.json", "config.json"))
    if hasattr(cfg, "data"):
        check_data(cfg.data, getattr(cfg, "split", None))


def check_data(data: str, split: str | None) -> None:
    """Raise ConfigError unless `data` is 'sample' or the folder of `appsplus build` and
    `split` one of its splits (null: all). Reads file names only, no rows."""
    from appsplus.curate.manifest import DATA_FILES
    from appsplus.curriculum.subtasks import CURRICULUM_MANIFEST

    if data == "sample":
        splits = list(DATA_FILES)  # the embedded sample is a build with every split
    else:
        path = Path(data)
        if not path.is_dir():
            raise ConfigError(
                f"data: no such dataset folder: {data} ('sample' or a built APPS+ folder)"
            )
        if (path / CURRICULUM_MANIFEST).is_file():
            try:
                source = json.loads((path / CURRICULUM_MANIFEST).read_text())["source_dataset"]
            except (OSError, ValueError, KeyError, TypeError):
                source = "the build it was exported from"
            raise ConfigError(
                f"data: {data} is a curriculum export (subtasks), not a build; the trainers "
                f"make the curriculum stages themselves: train on the build it came from "
                f"(--set data={source})"
            )
        splits = [name for name, file in DATA_FILES.items() if (path / file).is_file()]
        if not splits:
            raise ConfigError(
                f"data: {data} is not an APPS+ build (no {' or '.join(DATA_FILES.values())}); "
                "use 'sample' or the OUT folder of `appsplus build`"
            )
    if split is not None and split not in splits:
        raise ConfigError(
            f"split: {split!r} is not a split of {data} (it has {', '.join(splits)}); "
            "null reads every split"
        )


def check_resume(output_dir: str | Path, resume: str | None, overwrite: bool = False) -> None:
    """Raise ConfigError unless `resume` names a checkpoint ('latest': one in `output_dir`),
    or, for a fresh run, `output_dir` holds none (`appsplus.trainers.model.checkpoint_to_resume`;
    with `overwrite` a fresh run replaces them)."""
    from appsplus.trainers.checks import checkpoint_to_resume  # no torch

    if overwrite and resume is None:
        return
    try:
        checkpoint_to_resume(Path(output_dir), resume)
    except (FileExistsError, FileNotFoundError) as e:
        raise ConfigError(str(e)) from None


# --------------------------------------------------------------------------- describing
def config_help(cls: type[BaseModel], width: int = 100) -> str:
    """Every key of `cls` (nested ones dotted): type, default and meaning, one per entry."""
    rows = list(_rows(cls, ""))
    key_width = max(len(key) for key, _, _ in rows) + 2
    lines = []
    for key, kind, meaning in rows:
        head = f"  {key:<{key_width}}{kind}"
        lines.append(head)
        lines += textwrap.wrap(
            meaning,
            width=width,
            initial_indent=" " * (key_width + 4),
            subsequent_indent=" " * (key_width + 4),
        )
    return "\n".join(lines)


def _rows(cls: type[BaseModel], prefix: str):
    for name, field in cls.model_fields.items():
        if _is_model(field.annotation):
            yield from _rows(field.annotation, f"{prefix}{name}.")
            continue
        if field.is_required():
            default = "required"
        else:
            value = field.default_factory() if field.default is PydanticUndefined else field.default
            default = f"default {_yaml_value(value)}"
        yield (
            f"{prefix}{name}",
            f"{_type_name(field.annotation)}, {default}",
            field.description or "",
        )


def _type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _yaml_value(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text.removesuffix("...").strip()


def show_config(cls: type[BaseModel], path: str | Path | None, overrides: list[str]) -> str:
    """The config a command would run with, as YAML with each key's meaning as a comment;
    a required key not given yet is shown as null."""
    data = apply_overrides(read_config_file(path) if path is not None else {}, list(overrides))
    placeholders = {
        name: ""
        for name, field in cls.model_fields.items()
        if field.is_required() and field.annotation is str and name not in data
    }
    cfg = validate_config(cls, {**placeholders, **data})
    values = cfg.model_dump(mode="json", fallback=repr)
    meanings = {key: meaning for key, _, meaning in _rows(cls, "")}
    lines = []
    for name, value in values.items():
        if name in placeholders:
            lines.append(f"{name}: null  # REQUIRED: {meanings.get(name, '')}")
        elif isinstance(value, dict) and _is_model(cls.model_fields[name].annotation):
            lines.append(f"{name}:")
            for sub, subvalue in value.items():
                meaning = meanings.get(f"{name}.{sub}", "")
                lines.append(f"  {sub}: {_yaml_value(subvalue)}  # {meaning}")
        else:
            lines.append(f"{name}: {_yaml_value(value)}  # {meanings.get(name, '')}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI edge
def config_parser(prog: str, description: str, cls: type[BaseModel]) -> argparse.ArgumentParser:
    """An argparse parser with --config, --set and --show-config; --help lists every key."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=f"config keys ({cls.__name__}; set them in --config FILE or with --set "
        f"KEY=VALUE):\n{config_help(cls)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", metavar="FILE", help="YAML or JSON file of config keys (listed below)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set one key (a YAML value; dotted keys reach sections: rewards.passed=2); "
        "repeatable, applied after --config",
    )
    parser.add_argument(
        "--show-config",
        action="store_true",
        help="print the config this command would run with (every key, its value and "
        "meaning) and exit",
    )
    return parser


def config_from_cli(
    parser: argparse.ArgumentParser,
    cls: type[C],
    args: argparse.Namespace,
    overrides: list[str],
    check=check_locations,
) -> C:
    """The command line's config, its locations checked (a mistake raises ConfigError,
    which the trainer's `main` prints as one line: `appsplus.errors.exit_on_error`), and
    --show-config prints the config and exits 0."""
    if args.show_config:
        text = show_config(cls, args.config, overrides)
        try:
            print(text, flush=True)
        except BrokenPipeError:  # `--show-config | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        parser.exit(0)
    cfg = load_config(cls, args.config, overrides)
    if check is not None:
        check(cfg)
    return cfg


def save_config(config: BaseModel, folder: str | Path, name: str = "config.yaml") -> Path:
    """Write the config (every field, defaults included) as YAML into `folder`."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = config.model_dump(mode="json", fallback=repr)  # a Python callable: its repr
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
