"""An NC-series GPU step after a CPU step, on AmlCompute targets (AKS flavour).

Compiled, the train step's pod asks for 1 nvidia.com/gpu and lands on Standard_NC6s_v3 spot
nodes; the prepare step's pod fits a Standard_D2_v2 node. Locally both run; the GPU step
gets CUDA_VISIBLE_DEVICES from the GPUs present.
"""

from kubeline import (
    AmlCompute,
    ComputeTarget,
    ComputeTargetException,
    DataReference,
    Pipeline,
    PipelineData,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
store = ws.get_default_datastore()
store.upload_files(["data/anscombe_1.csv"], target_path="anscombe", overwrite=True,
                   show_progress=False)


def target(name: str, vm_size: str, priority: str, max_nodes: int) -> ComputeTarget:
    try:
        return ComputeTarget(workspace=ws, name=name)
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size=vm_size, vm_priority=priority,
                                                       min_nodes=0, max_nodes=max_nodes)
        found = ComputeTarget.create(ws, name, config)
        found.wait_for_completion(show_output=True)
        return found


cpu = target("cpu-cluster", "STANDARD_D2_V2", "dedicated", 4)
gpu = target("gpu-cluster", "STANDARD_NC6S_V3", "lowpriority", 2)

raw = DataReference(store, data_reference_name="raw",
                    path_on_datastore="anscombe/anscombe_1.csv").as_download()
prepared = PipelineData("prepared", datastore=store)
model = PipelineData("model", datastore=store)

prepare = PythonScriptStep(script_name="prepare.py", name="prepare",
                           arguments=["--raw", raw, "--prepared", prepared],
                           inputs=[raw], outputs=[prepared], compute_target=cpu,
                           source_directory="steps")
train = PythonScriptStep(script_name="train.py", name="train",
                         arguments=["--prepared", prepared, "--model", model],
                         inputs=[prepared], outputs=[model], compute_target=gpu,
                         source_directory="steps")

pipeline = Pipeline(workspace=ws, steps=[train])
