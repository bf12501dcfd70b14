"""A ParallelRunStep scores sensor files in mini-batches on 2 nodes x 2 processes; a report
step reads its append_row output. (Rows of CSV/parquet files: docs/parallel-run.md.)

Run: `kubeline run pipeline.py`; change the files per mini-batch with `-p batch_size=6`.
"""

from kubeline import (
    DataReference,
    Environment,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
store = ws.get_default_datastore()
store.upload(src_dir="data", target_path="scoring", overwrite=True, show_progress=False)

readings = DataReference(store, data_reference_name="readings",
                         path_on_datastore="scoring/readings")
batch_size = PipelineParameter(name="batch_size", default_value="4")
scores = PipelineData("scores", datastore=store)
report = PipelineData("report", datastore=store, is_directory=True)
env = Environment(name="scoring")

score_files = ParallelRunStep(
    name="score-files",
    parallel_run_config=ParallelRunConfig(
        environment=env, entry_script="score_files.py", source_directory="steps",
        mini_batch_size=batch_size, error_threshold=0, output_action="append_row",
        compute_target=None, node_count=2, process_count_per_node=2),
    inputs=[readings],
    output=scores,
    arguments=["--offset", 1000],
)
report_step = PythonScriptStep(
    name="report",
    script_name="report.py",
    arguments=["--scores", scores, "--report", report],
    inputs=[scores],
    outputs=[report],
    source_directory="steps",
)

pipeline = Pipeline(workspace=ws, steps=[report_step])
