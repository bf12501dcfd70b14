"""A DatabricksStep that counts words with Spark, and a PythonScriptStep that reads its result.

On a cluster the Spark step is a spark-operator SparkApplication (docs/spark.md); locally
`kubeline run pipeline.py` runs it with pyspark's spark-submit in local mode.
"""

import os

from kubeline import (
    ComputeTarget,
    ComputeTargetException,
    DatabricksCompute,
    DatabricksStep,
    DataReference,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
store = ws.get_default_datastore()
store.upload(src_dir="data", target_path="wordcount/input", overwrite=True, show_progress=False)

try:
    databricks = ComputeTarget(workspace=ws, name="databricks")
except ComputeTargetException:
    config = DatabricksCompute.attach_configuration(
        resource_group="rg", workspace_name="dbx",
        access_token=os.environ.get("DATABRICKS_ACCESS_TOKEN", "only-checked-never-stored"))
    databricks = ComputeTarget.attach(ws, "databricks", config)

text = DataReference(store, data_reference_name="text", path_on_datastore="wordcount/input")
counts = PipelineData("counts", datastore=store, is_directory=True)
report = PipelineData("report", datastore=store)
min_count = PipelineParameter(name="min_count", default_value=1)

count_step = DatabricksStep(
    name="count-words",
    inputs=[text],
    outputs=[counts],
    python_script_name="wordcount.py",
    python_script_params=[min_count],
    source_directory="spark",
    spark_version="14.3.x-scala2.12",
    node_type="Standard_DS3_v2",
    num_workers=2,
    spark_conf={"spark.sql.shuffle.partitions": "4"},
    compute_target=databricks,
)
top_step = PythonScriptStep(
    name="top-words",
    script_name="top_words.py",
    arguments=["--counts", counts, "--report", report, "--top", 5],
    inputs=[counts],
    outputs=[report],
    source_directory="steps",
)

pipeline = Pipeline(workspace=ws, steps=[top_step])
