"""Three steps chained by PipelineData folders; the input is a DataPath pipeline parameter.

Only the last step is listed: Pipeline(steps=[report_step]) pulls in its producers.
Run: `kubeline run pipeline.py`; change the input per run with
`-p raw_data='{"datastore": "workspaceblobstore", "path": "sales/2026"}'`.
"""

from kubeline import (
    DataPath,
    DataPathComputeBinding,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
store = ws.get_default_datastore()
store.upload(src_dir="data", target_path="sales/2026", overwrite=True, show_progress=False)

raw_path = PipelineParameter(name="raw_data", default_value=DataPath(store, "sales/2026"))
raw_input = (raw_path, DataPathComputeBinding(mode="mount"))
top = PipelineParameter(name="top", default_value=3)

cleaned = PipelineData("cleaned", datastore=store, is_directory=True)
features = PipelineData("features", datastore=store, is_directory=True)
report = PipelineData("report", datastore=store, is_directory=True)

clean_step = PythonScriptStep(
    name="clean",
    script_name="clean.py",
    arguments=["--raw", raw_input, "--cleaned", cleaned],
    inputs=[raw_input],
    outputs=[cleaned],
    source_directory="steps",
)
featurize_step = PythonScriptStep(
    name="featurize",
    script_name="featurize.py",
    arguments=["--cleaned", cleaned, "--features", features],
    inputs=[cleaned],
    outputs=[features],
    source_directory="steps",
)
report_step = PythonScriptStep(
    name="report",
    script_name="report.py",
    arguments=["--features", features, "--report", report, "--top", top],
    inputs=[features],
    outputs=[report],
    source_directory="steps",
)

pipeline = Pipeline(workspace=ws, steps=[report_step])
