"""ParallelRunStep entry script over rows: each mini-batch is a pandas DataFrame."""

from azureml_user.parallel_run import EntryScript


def init():
    EntryScript().logger.info("init() called")


def run(mini_batch):
    EntryScript().logger.info("%d rows", len(mini_batch))
    result = mini_batch[["region", "temperature"]].copy()
    result["comfort"] = (mini_batch["temperature"].between(18, 26)
                         & (mini_batch["humidity"] < 70)).map({True: "ok", False: "no"})
    return result
