"""Environment configuration: the YAML files in this folder, their schema and their loader."""

from config.loader import DEFAULT_CONFIG_DIR, ENVIRONMENTS, ConfigError, load_all, load_stage_config
from config.schema import StageConfig, StorageConfig

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "ENVIRONMENTS",
    "ConfigError",
    "StageConfig",
    "StorageConfig",
    "load_all",
    "load_stage_config",
]
