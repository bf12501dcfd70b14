"""The Azure ML how-to page's pipeline (create, run and track ML pipelines), imports changed.

Run it: `kubeline run pipeline.py -p pipeline_arg=20`; compile it:
`kubeline compile pipeline.py -o build/compare_models`.
"""

from kubeline import (
    AmlCompute,
    ComputeTarget,
    DataReference,
    Datastore,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.create(
    name="<workspace-name>",
    subscription_id="<subscription-id>",
    resource_group="<resource-group>",
    location="<workspace_region>",
    exist_ok=True,
)

# Default datastore (Azure blob storage)
def_data_store = ws.get_default_datastore()
# The above call is equivalent to this
def_blob_store = Datastore(ws, "workspaceblobstore")
# Get file storage associated with the workspace
def_file_store = Datastore(ws, "workspacefilestore")

def_blob_store.upload_files(
    ["./data/20news.pkl"], target_path="20newsgroups", overwrite=True, show_progress=False
)

blob_input_data = DataReference(
    datastore=def_blob_store,
    data_reference_name="test_data",
    path_on_datastore="20newsgroups/20news.pkl",
)

output_data1 = PipelineData("output_data1", datastore=def_blob_store, output_name="output_data1")

compute_name = "aml-compute"
vm_size = "STANDARD_NC6"
if compute_name in ws.compute_targets:
    compute_target = ws.compute_targets[compute_name]
    if compute_target and type(compute_target) is AmlCompute:
        print("Found compute target: " + compute_name)
else:
    print("Creating a new compute target...")
    provisioning_config = AmlCompute.provisioning_configuration(
        vm_size=vm_size,  # STANDARD_NC6 is GPU-enabled
        min_nodes=0,
        max_nodes=4,
    )
    # create the compute target
    compute_target = ComputeTarget.create(ws, compute_name, provisioning_config)
    compute_target.wait_for_completion(show_output=True, min_node_count=None,
                                       timeout_in_minutes=20)
    print(compute_target.status.serialize())

project_folder = "scripts"
processed_data1 = output_data1
comp_data1 = PipelineData("comp_data1", datastore=def_blob_store)
comp_data2 = PipelineData("comp_data2", datastore=def_blob_store)
out_data3 = PipelineData("out_data3", datastore=def_blob_store)

trainStep = PythonScriptStep(
    script_name="train.py",
    arguments=["--input", blob_input_data, "--output", processed_data1],
    inputs=[blob_input_data],
    outputs=[processed_data1],
    compute_target=compute_target,
    source_directory=project_folder,
)

extractStep = PythonScriptStep(
    script_name="extract.py",
    arguments=["--input", processed_data1, "--output1", comp_data1, "--output2", comp_data2],
    inputs=[processed_data1],
    outputs=[comp_data1, comp_data2],
    compute_target=compute_target,
    source_directory=project_folder,
)

pipeline_param = PipelineParameter(name="pipeline_arg", default_value=10)

compareStep = PythonScriptStep(
    script_name="compare.py",
    arguments=["--comp_data1", comp_data1, "--comp_data2", comp_data2,
               "--output_data", out_data3, "--param1", pipeline_param],
    inputs=[comp_data1, comp_data2],
    outputs=[out_data3],
    target=compute_target,
    source_directory=project_folder,
)

# list of steps to run
compareModels = [trainStep, extractStep, compareStep]
# Build the pipeline
pipeline1 = Pipeline(workspace=ws, steps=[compareModels])

if __name__ == "__main__":
    # The how-to page's submission code (`python pipeline.py`; `kubeline run pipeline.py`
    # runs this same block in the foreground).
    from kubeline import Experiment

    # Submit the pipeline to be run
    pipeline_run1 = Experiment(ws, "Compare_Models_Exp").submit(pipeline1)
    pipeline_run1.wait_for_completion(show_output=True)

    for step in pipeline_run1.get_steps():
        print(f"{step.name}: {step.get_status()} reused={step.reused} {step.get_metrics()}")
    best = pipeline_run1.find_step_run("compare")[0].get_output_data("out_data3")
    print("downloaded to", best.download("./out", overwrite=True, show_progress=False))
