"""EntryScript (``azureml_user.parallel_run``): what an entry script asks about its worker."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ENV_OUTPUT_DIR = "KUBELINE_PRS_OUTPUT_DIR"
ENV_WORKING_DIR = "KUBELINE_PRS_WORKING_DIR"
ENV_LOG_DIR = "KUBELINE_PRS_LOG_DIR"
ENV_LOGGING_LEVEL = "KUBELINE_PRS_LOGGING_LEVEL"
LOGGER_NAME = "ParallelRunStep.EntryScript"


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now: each mini-batch's log captures its lines."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class EntryScript:
    """The worker's logger and folders, as AML's EntryScript gives them."""

    @property
    def logger(self) -> logging.Logger:
        """Lines go to the current mini-batch's log (``kubeline runs logs RUN STEP``)."""
        logger = logging.getLogger(LOGGER_NAME)
        if not logger.handlers:
            handler = _CurrentStderr()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(os.environ.get(ENV_LOGGING_LEVEL, "INFO"))
            logger.propagate = False
        return logger

    @property
    def output_dir(self) -> str:
        """Where a summary_only script writes its own output; gathered into the step's output."""
        return self._folder(ENV_OUTPUT_DIR)

    @property
    def working_dir(self) -> str:
        return self._folder(ENV_WORKING_DIR)

    @property
    def log_dir(self) -> str:
        return self._folder(ENV_LOG_DIR)

    @staticmethod
    def _folder(variable: str) -> str:
        path = Path(os.environ.get(variable) or os.getcwd())
        path.mkdir(parents=True, exist_ok=True)
        return str(path)
