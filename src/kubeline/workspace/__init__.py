"""The workspace: kubeline.yaml (datastores, compute targets, cluster flavour) and .kubeline/."""

from kubeline.workspace.config import (
    CONFIG_FILE,
    DEFAULT_DATASTORE,
    STATE_DIR,
    WorkspaceConfig,
    find_config,
    load_config,
    save_config,
)

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_DATASTORE",
    "STATE_DIR",
    "WorkspaceConfig",
    "find_config",
    "load_config",
    "save_config",
]
