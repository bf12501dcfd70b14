"""Where kubeline's classes stand against the SDK's: refused members and arguments (data).

Members are derived: every public member of an SDK class (``sdk_members``, generated from
Microsoft's SDK by scripts/aml_parity.py) that the kubeline class does not implement is
refused in one line, with its class's advice (``MEMBER_ADVICE``: the nearest kubeline way;
a few members have their own). Arguments are decided one by one (``PARAMS``): every SDK
argument kubeline lacks is either ignored (an Azure resource setting with no effect,
documented) or refused unless it is passed with the SDK's default.
``kubeline.aml_surface.checker.aml_surface`` applies a class's entry.
"""

from __future__ import annotations

from kubeline.aml_surface.checker import Params, Surface

REQUIRED = object()  # an SDK argument without a default: any value is refused

WORKSPACE = (
    "Azure workspace management: a kubeline workspace is kubeline.yaml and .kubeline/ "
    "(docs/workspace.md)"
)
RUN_HISTORY = "not kept for kubeline runs: see `kubeline runs show/logs` and docs/runs.md"
STEP_RUN = (
    "not part of a step's run context in kubeline: log with Run.get_context().log*/tag/upload_file"
)
COMPUTE = (
    "Azure compute management: a compute target is a scheduling profile in kubeline.yaml "
    "(docs/compute.md)"
)
IMAGES = "kubeline builds no images: name a built image in environment.docker.base_image"
PACKAGES = "kubeline installs no packages: put them in the step image (docs/aml-compat.md)"
RUNCONFIG = "kubeline uses a RunConfiguration's image and environment only (docs/aml-compat.md)"
MODELS = (
    "model deployment and its Azure services are not part of kubeline: serve the model yourself"
)
DATASTORES = "a datastore kind Azure alone has: use local, S3 or Azure Blob datastores"
SDK_INTERNAL = "internal to the AML SDK's graph builder: kubeline compiles pipelines itself"
STEP_INTERNAL = "internal to the AML SDK's graph builder: kubeline compiles steps itself"
PUBLISHING = (
    "not available for kubeline's published pipelines, endpoints and schedules (docs/serve.md)"
)
MODULES = "not available for kubeline modules (docs/aml-compat.md)"
ADLA = "U-SQL (ADLA) modules are not supported: publish a Python script"
AZURE_BATCH = "Azure Batch modules are not supported: publish a Python script, or use a CommandStep"

AZURE_SETTING = "an Azure resource setting: accepted, no effect in kubeline"
AUTH_IGNORED = "kubeline authenticates its REST calls with its own tokens (docs/aml-compat.md)"
CLUSTER_SETTING = "an Azure cluster setting: the Kubernetes cluster owns it (docs/compute.md)"
OLD_ATTACH = "the SDK's old attach form: use attach_configuration(...) and ComputeTarget.attach"
NO_EFFECT = "kubeline always reads the current values: accepted, no effect"
FILTER = "this filter or option is not implemented by kubeline: leave it at its default"
RECORD_Module = "modules come from Module.create/Module.get, not the constructor"
RECORD_PipelineDraft = "drafts come from PipelineDraft.create/get, not the constructor"
RECORD_PipelineEndpoint = "endpoints come from PipelineEndpoint.publish/get, not the constructor"
RECORD_PublishedPipeline = "published pipelines come from Pipeline.publish/PublishedPipeline.get"
RECORD_Schedule = "schedules come from Schedule.create/Schedule.get, not the constructor"
RECORD_StepRun = "step runs come from PipelineRun.get_steps/find_step_run, not the constructor"

# class -> (the advice for each SDK member it lacks, members with another advice)
MEMBER_ADVICE: dict[str, tuple[str, dict[str, str]]] = {
    "AdlaCompute": (COMPUTE, {}),
    "AdlaStep": (STEP_INTERNAL, {}),
    "AmlCompute": (COMPUTE, {}),
    "CommandStep": (STEP_INTERNAL, {}),
    "ComputeTarget": (COMPUTE, {}),
    "CondaDependencies": (PACKAGES, {}),
    "DataPath": (SDK_INTERNAL, {}),
    "DataPathComputeBinding": (SDK_INTERNAL, {}),
    "DataReference": (SDK_INTERNAL, {}),
    "DataTransferStep": (STEP_INTERNAL, {}),
    "DatabricksCompute": (COMPUTE, {}),
    "DatabricksStep": (STEP_INTERNAL, {}),
    "Datastore": (DATASTORES, {}),
    "Environment": (IMAGES, {}),
    "Experiment": (RUN_HISTORY, {}),
    "Model": (MODELS, {}),
    "Module": (MODULES, {"publish_adla_script": ADLA, "publish_azure_batch": AZURE_BATCH}),
    "ModuleStep": (STEP_INTERNAL, {}),
    "ParallelRunStep": (STEP_INTERNAL, {}),
    "Pipeline": (SDK_INTERNAL, {}),
    "PipelineData": (SDK_INTERNAL, {}),
    "PipelineDraft": (PUBLISHING, {}),
    "PipelineEndpoint": (PUBLISHING, {}),
    "PipelineRun": (RUN_HISTORY, {}),
    "PublishedPipeline": (PUBLISHING, {}),
    "PythonScriptStep": (STEP_INTERNAL, {}),
    "Run": (STEP_RUN, {}),
    "RunConfiguration": (RUNCONFIG, {}),
    "Schedule": (PUBLISHING, {}),
    "ScriptRunConfig": (RUNCONFIG, {}),
    "StepRun": (RUN_HISTORY, {}),
    "Workspace": (WORKSPACE, {}),
}

# class -> callable ("__init__" or a method) -> what it does with SDK arguments it lacks
PARAMS: dict[str, dict[str, Params]] = {
    "AdlaCompute": {
        "attach": Params(refused={"resource_id": (REQUIRED, OLD_ATTACH)}),
        "attach_configuration": Params(ignored={"resource_id": AZURE_SETTING}),
    },
    "AmlCompute": {
        "provisioning_configuration": Params(
            ignored={
                "admin_user_password": CLUSTER_SETTING,
                "admin_user_ssh_key": CLUSTER_SETTING,
                "admin_username": CLUSTER_SETTING,
                "description": CLUSTER_SETTING,
                "enable_node_public_ip": CLUSTER_SETTING,
                "identity_id": CLUSTER_SETTING,
                "identity_type": CLUSTER_SETTING,
                "idle_seconds_before_scaledown": CLUSTER_SETTING,
                "location": CLUSTER_SETTING,
                "remote_login_port_public_access": CLUSTER_SETTING,
                "subnet_name": CLUSTER_SETTING,
                "tags": CLUSTER_SETTING,
                "vnet_name": CLUSTER_SETTING,
                "vnet_resourcegroup_name": CLUSTER_SETTING,
            }
        ),
    },
    "DatabricksCompute": {
        "attach": Params(
            refused={"access_token": (REQUIRED, OLD_ATTACH), "resource_id": (REQUIRED, OLD_ATTACH)}
        ),
        "attach_configuration": Params(ignored={"resource_id": AZURE_SETTING}),
    },
    "Datastore": {
        "register_azure_blob_container": Params(
            ignored={
                "blob_cache_timeout": AZURE_SETTING,
                "grant_workspace_access": AZURE_SETTING,
                "resource_group": AZURE_SETTING,
                "skip_validation": AZURE_SETTING,
                "subscription_id": AZURE_SETTING,
            }
        ),
    },
    "Experiment": {
        "get_runs": Params(
            refused={
                "include_children": (False, FILTER),
                "properties": (None, FILTER),
                "tags": (None, FILTER),
                "type": (None, FILTER),
            }
        ),
        "list": Params(refused={"tags": (None, FILTER), "view_type": ("ActiveOnly", FILTER)}),
    },
    "Module": {
        "__init__": Params(
            refused={
                "default_version": (REQUIRED, RECORD_Module),
                "description": (REQUIRED, RECORD_Module),
                "module_id": (REQUIRED, RECORD_Module),
                "module_version_list": (REQUIRED, RECORD_Module),
                "name": (REQUIRED, RECORD_Module),
                "status": (REQUIRED, RECORD_Module),
            }
        ),
    },
    "PipelineDraft": {
        "__init__": Params(
            refused={
                "description": (None, RECORD_PipelineDraft),
                "experiment_name": (None, RECORD_PipelineDraft),
                "graph_draft_id": (None, RECORD_PipelineDraft),
                "id": (REQUIRED, RECORD_PipelineDraft),
                "last_submitted_pipeline_run_id": (None, RECORD_PipelineDraft),
                "name": (None, RECORD_PipelineDraft),
                "parent_pipeline_draft_id": (None, RECORD_PipelineDraft),
                "parent_pipeline_id": (None, RECORD_PipelineDraft),
                "parent_pipeline_run_id": (None, RECORD_PipelineDraft),
                "parent_step_run_ids": (None, RECORD_PipelineDraft),
                "properties": (None, RECORD_PipelineDraft),
                "tags": (None, RECORD_PipelineDraft),
            }
        ),
    },
    "PipelineEndpoint": {
        "__init__": Params(
            refused={
                "default_version": (REQUIRED, RECORD_PipelineEndpoint),
                "description": (REQUIRED, RECORD_PipelineEndpoint),
                "endpoint": (REQUIRED, RECORD_PipelineEndpoint),
                "id": (REQUIRED, RECORD_PipelineEndpoint),
                "name": (REQUIRED, RECORD_PipelineEndpoint),
                "pipeline_version_list": (REQUIRED, RECORD_PipelineEndpoint),
                "status": (REQUIRED, RECORD_PipelineEndpoint),
            }
        ),
        "submit": Params(refused={"parent_run_id": (None, FILTER)}),
    },
    "PipelineRun": {
        "get_metrics": Params(
            ignored={"populate": NO_EFFECT}, refused={"run_type": (None, FILTER)}
        ),
    },
    "PublishedPipeline": {
        "__init__": Params(
            refused={
                "continue_on_step_failure": (None, RECORD_PublishedPipeline),
                "description": (REQUIRED, RECORD_PublishedPipeline),
                "endpoint": (REQUIRED, RECORD_PublishedPipeline),
                "graph_id": (REQUIRED, RECORD_PublishedPipeline),
                "name": (REQUIRED, RECORD_PublishedPipeline),
                "published_pipeline_id": (REQUIRED, RECORD_PublishedPipeline),
                "status": (REQUIRED, RECORD_PublishedPipeline),
                "total_run_steps": (REQUIRED, RECORD_PublishedPipeline),
                "version": (REQUIRED, RECORD_PublishedPipeline),
            }
        ),
    },
    "Run": {
        "__init__": Params(refused={"outputs": (None, FILTER)}),
        "get_context": Params(ignored={"used_for_context_manager": NO_EFFECT}),
        "get_metrics": Params(
            ignored={"populate": NO_EFFECT},
            refused={"recursive": (False, FILTER), "run_type": (None, FILTER)},
        ),
    },
    "Schedule": {
        "__init__": Params(
            refused={
                "continue_on_step_failure": (REQUIRED, RECORD_Schedule),
                "data_path_parameter_name": (REQUIRED, RECORD_Schedule),
                "datastore_name": (REQUIRED, RECORD_Schedule),
                "description": (REQUIRED, RECORD_Schedule),
                "id": (REQUIRED, RECORD_Schedule),
                "name": (REQUIRED, RECORD_Schedule),
                "path_on_datastore": (REQUIRED, RECORD_Schedule),
                "pipeline_endpoint_id": (None, RECORD_Schedule),
                "pipeline_id": (REQUIRED, RECORD_Schedule),
                "polling_interval": (REQUIRED, RECORD_Schedule),
                "recurrence": (REQUIRED, RECORD_Schedule),
                "status": (REQUIRED, RECORD_Schedule),
            }
        ),
    },
    "StepRun": {
        "__init__": Params(
            refused={
                "experiment": (REQUIRED, RECORD_StepRun),
                "node_id": (REQUIRED, RECORD_StepRun),
                "pipeline_run_id": (REQUIRED, RECORD_StepRun),
                "step_run_id": (REQUIRED, RECORD_StepRun),
            }
        ),
        "get_metrics": Params(
            ignored={"populate": NO_EFFECT},
            refused={"recursive": (False, FILTER), "run_type": (None, FILTER)},
        ),
    },
    "Workspace": {
        "__init__": Params(
            ignored={"auth": AUTH_IGNORED, "sku": AZURE_SETTING, "tags": AZURE_SETTING}
        ),
        "create": Params(
            ignored={
                "adb_workspace": AZURE_SETTING,
                "app_insights": AZURE_SETTING,
                "auth": AUTH_IGNORED,
                "cmk_keyvault": AZURE_SETTING,
                "container_registry": AZURE_SETTING,
                "create_resource_group": AZURE_SETTING,
                "default_cpu_compute_target": AZURE_SETTING,
                "default_gpu_compute_target": AZURE_SETTING,
                "friendly_name": AZURE_SETTING,
                "hbi_workspace": AZURE_SETTING,
                "key_vault": AZURE_SETTING,
                "primary_user_assigned_identity": AZURE_SETTING,
                "private_endpoint_auto_approval": AZURE_SETTING,
                "private_endpoint_config": AZURE_SETTING,
                "resource_cmk_uri": AZURE_SETTING,
                "show_output": AZURE_SETTING,
                "sku": AZURE_SETTING,
                "storage_account": AZURE_SETTING,
                "system_datastores_auth_mode": AZURE_SETTING,
                "tags": AZURE_SETTING,
                "user_assigned_identity_for_cmk_encryption": AZURE_SETTING,
                "v1_legacy_mode": AZURE_SETTING,
            }
        ),
        "from_config": Params(ignored={"auth": AUTH_IGNORED}),
        "get": Params(
            ignored={
                "auth": AUTH_IGNORED,
                "cloud": AZURE_SETTING,
                "id": AZURE_SETTING,
                "location": AZURE_SETTING,
                "resource_group": AZURE_SETTING,
                "subscription_id": AZURE_SETTING,
            }
        ),
    },
}


def surface(name: str) -> Surface:
    """The entry of a class: its SDK members with their advice (the decorator skips those
    the class implements) and its argument decisions; an empty one when it has neither."""
    from kubeline.aml_surface.sdk_members import SDK_MEMBERS

    advice, special = MEMBER_ADVICE.get(name, ("", {}))
    sdk = SDK_MEMBERS.get(name, {}) if advice else {}
    return Surface(
        members={m: special.get(m, advice) for m in sdk},
        properties=frozenset(m for m, kind in sdk.items() if kind == "property"),
        params=PARAMS.get(name, {}),
    )
