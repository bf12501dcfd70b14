"""Names of the variables the shim sets for the step's script (``Run.get_context()`` reads
them). Their own module, so the shim does not import the run context to name them."""

ENV_METRICS_FILE = "KUBELINE_METRICS_FILE"
ENV_UPLOADS_DIR = "KUBELINE_UPLOADS_DIR"
ENV_STEP_RUN_ID = "KUBELINE_STEP_RUN_ID"
ENV_RUN_ID = "KUBELINE_RUN_ID"
ENV_EXPERIMENT = "KUBELINE_EXPERIMENT"
ENV_STEP_NAME = "KUBELINE_STEP_NAME"
# a HyperDriveStep trial under an early termination policy: the primary metric's name, and
# the file where the shim answers each value of it: the metrics file's offset judged so far,
# or "stop <offset>"
ENV_TRIAL_METRIC = "KUBELINE_TRIAL_METRIC"
ENV_TRIAL_ACK = "KUBELINE_TRIAL_ACK"
