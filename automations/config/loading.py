"""Where the config file is, reading it, and secrets from the environment or `.env`."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from automations.config.parsing import parse_settings
from automations.config.settings import Settings
from automations.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config/partners.toml")


def base_dir_for(config_path: Path) -> Path:
    """The project folder: the parent of `config/`, else the config file's own folder."""
    folder = config_path.resolve().parent
    return folder.parent if folder.name == "config" else folder


def config_path_from(arg: str | None) -> Path:
    """The config path: `--config`, else PARTNERS_CONFIG, else config/partners.toml."""
    if arg:
        return Path(arg)
    env = os.environ.get("PARTNERS_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def secret(name: str, settings: Settings) -> str:
    """A secret from the environment, else from the project's `.env` file; "" if neither."""
    value = os.environ.get(name)
    if value:
        return value
    env_file = settings.base_dir / ".env"
    if env_file.is_file():
        from dotenv import dotenv_values

        return dotenv_values(env_file).get(name) or ""
    return ""


def load_settings(path: Path) -> Settings:
    """Read and validate the TOML config at `path`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"config file {path} not found (run `partners init` to create one)"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return parse_settings(data, base_dir_for(path))
