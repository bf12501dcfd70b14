"""Two ParallelRunSteps (files, then rows) and a report step that reads both outputs.

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
    TabularInput,
    Workspace,
)

ws = Workspace.from_config()
store = ws.get_default_datastore()
store.upload(src_dir="data", target_path="scoring", overwrite=True, show_progress=False)

readings = DataReference(store, data_reference_name="readings",
                         path_on_datastore="scoring/readings")
table = DataReference(store, data_reference_name="table", path_on_datastore="scoring/table")
batch_size = PipelineParameter(name="batch_size", default_value="4")
scores = PipelineData("scores", datastore=store)
comfort = PipelineData("comfort", datastore=store)
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
score_rows = ParallelRunStep(
    name="score-rows",
    parallel_run_config=ParallelRunConfig(
        environment=env, entry_script="score_rows.py", source_directory="steps",
        mini_batch_size="200", error_threshold=5, output_action="append_row",
        append_row_file_name="comfort.txt", compute_target=None, node_count=2,
        process_count_per_node=1),
    inputs=[TabularInput(table)],
    output=comfort,
)
report_step = PythonScriptStep(
    name="report",
    script_name="report.py",
    arguments=["--scores", scores, "--comfort", comfort, "--report", report],
    inputs=[scores, comfort],
    outputs=[report],
    source_directory="steps",
)

pipeline = Pipeline(workspace=ws, steps=[report_step])
