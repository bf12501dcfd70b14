"""Where kubeline's classes stand against the SDK's: refused members and arguments (data).

Generated from scripts/aml_parity.py's report and then reviewed: every public member of an
SDK class on the compatibility surface that kubeline does not implement is refused here in
one line (the advice names the nearest kubeline way); every SDK argument kubeline lacks is
either ignored (an Azure resource setting with no effect, documented) or refused unless it
is passed with the SDK's default. ``kubeline.aml_surface.checker.aml_surface`` applies an entry.
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
DATASETS_PENDING = "Datasets are not available yet in this version of kubeline: use DataReference"

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

SURFACES: dict[str, Surface] = {
    "AdlaCompute": Surface(
        members={
            "deserialize": COMPUTE,
            "list": COMPUTE,
            "refresh_state": COMPUTE,
        },
        params={
            "attach": Params(refused={"resource_id": (REQUIRED, OLD_ATTACH)}),
            "attach_configuration": Params(ignored={"resource_id": AZURE_SETTING}),
        },
    ),
    "AdlaStep": Surface(
        members={
            "create_input_output_bindings": STEP_INTERNAL,
            "create_module_def": STEP_INTERNAL,
            "create_node": STEP_INTERNAL,
            "get_source_directory": STEP_INTERNAL,
            "resolve_input_arguments": STEP_INTERNAL,
            "validate_arguments": STEP_INTERNAL,
        },
    ),
    "AmlCompute": Surface(
        members={
            "add_identity": COMPUTE,
            "deserialize": COMPUTE,
            "get": COMPUTE,
            "get_active_runs": COMPUTE,
            "list": COMPUTE,
            "list_nodes": COMPUTE,
            "list_quotas": COMPUTE,
            "list_usages": COMPUTE,
            "refresh_state": COMPUTE,
            "remove_identity": COMPUTE,
            "supported_vmsizes": COMPUTE,
            "update": COMPUTE,
            "update_quotas": COMPUTE,
        },
        params={
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
    ),
    "CommandStep": Surface(
        members={
            "create_input_output_bindings": STEP_INTERNAL,
            "create_module_def": STEP_INTERNAL,
            "create_node": STEP_INTERNAL,
            "get_source_directory": STEP_INTERNAL,
            "resolve_input_arguments": STEP_INTERNAL,
            "validate_arguments": STEP_INTERNAL,
        },
    ),
    "ComputeTarget": Surface(
        members={
            "deserialize": COMPUTE,
            "list": COMPUTE,
            "refresh_state": COMPUTE,
        },
    ),
    "CondaDependencies": Surface(
        members={
            "add_cntk_package": PACKAGES,
            "add_tensorflow_conda_package": PACKAGES,
            "add_tensorflow_pip_package": PACKAGES,
            "get_default_number_of_packages": PACKAGES,
            "merge_requirements": PACKAGES,
            "pip_options": PACKAGES,
            "remove_channel": PACKAGES,
            "remove_pip_option": PACKAGES,
            "sdk_origin_url": PACKAGES,
            "set_pip_index_url": PACKAGES,
            "set_pip_option": PACKAGES,
            "set_pip_requirements": PACKAGES,
        },
        properties=frozenset(["pip_options"]),
    ),
    "DataPath": Surface(
        members={
            "create_from_data_reference": SDK_INTERNAL,
        },
    ),
    "DataPathComputeBinding": Surface(
        members={
            "create_data_reference": SDK_INTERNAL,
            "create_from_data_reference": SDK_INTERNAL,
        },
    ),
    "DataReference": Surface(
        members={
            "as_upload": SDK_INTERNAL,
            "create": SDK_INTERNAL,
            "to_config": SDK_INTERNAL,
        },
    ),
    "DataTransferStep": Surface(
        members={
            "create_input_output_bindings": STEP_INTERNAL,
            "create_module_def": STEP_INTERNAL,
            "create_node": STEP_INTERNAL,
            "get_output": STEP_INTERNAL,
            "get_source_directory": STEP_INTERNAL,
            "resolve_input_arguments": STEP_INTERNAL,
            "validate_arguments": STEP_INTERNAL,
        },
    ),
    "DatabricksCompute": Surface(
        members={
            "deserialize": COMPUTE,
            "get_credentials": COMPUTE,
            "list": COMPUTE,
            "refresh_state": COMPUTE,
        },
        params={
            "attach": Params(
                refused={
                    "access_token": (REQUIRED, OLD_ATTACH),
                    "resource_id": (REQUIRED, OLD_ATTACH),
                }
            ),
            "attach_configuration": Params(ignored={"resource_id": AZURE_SETTING}),
        },
    ),
    "DatabricksStep": Surface(
        members={
            "create_input_output_bindings": STEP_INTERNAL,
            "create_module_def": STEP_INTERNAL,
            "create_node": STEP_INTERNAL,
            "get_source_directory": STEP_INTERNAL,
            "resolve_input_arguments": STEP_INTERNAL,
            "validate_arguments": STEP_INTERNAL,
        },
    ),
    "Datastore": Surface(
        members={
            "register_hdfs": DATASTORES,
        },
        params={
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
    ),
    "Environment": Surface(
        members={
            "add_private_pip_wheel": IMAGES,
            "build": IMAGES,
            "build_local": IMAGES,
            "from_docker_build_context": IMAGES,
            "from_dockerfile": IMAGES,
            "from_existing_conda_environment": IMAGES,
            "get_image_details": IMAGES,
            "label": IMAGES,
            "load_from_directory": IMAGES,
            "save_to_directory": IMAGES,
        },
    ),
    "Experiment": Surface(
        members={
            "archive": RUN_HISTORY,
            "archived_time": RUN_HISTORY,
            "delete": RUN_HISTORY,
            "from_directory": RUN_HISTORY,
            "get_docs_url": RUN_HISTORY,
            "get_portal_url": RUN_HISTORY,
            "identity": RUN_HISTORY,
            "portal_url": RUN_HISTORY,
            "reactivate": RUN_HISTORY,
            "refresh": RUN_HISTORY,
            "remove_tags": RUN_HISTORY,
            "set_tags": RUN_HISTORY,
            "start_logging": RUN_HISTORY,
            "tag": RUN_HISTORY,
            "tags": RUN_HISTORY,
            "workspace_object": RUN_HISTORY,
        },
        properties=frozenset(
            ["archived_time", "identity", "portal_url", "tags", "workspace_object"]
        ),
        params={
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
    ),
    "Model": Surface(
        members={
            "add_dataset_references": MODELS,
            "deploy": MODELS,
            "deserialize": MODELS,
            "get_sas_urls": MODELS,
            "package": MODELS,
            "print_configuration": MODELS,
            "profile": MODELS,
            "update_tags_properties": MODELS,
        },
    ),
    "Module": Surface(
        members={
            "module_def_builder": MODULES,
            "process_source_directory": MODULES,
            "publish": MODULES,
            "publish_adla_script": ADLA,
            "publish_azure_batch": AZURE_BATCH,
        },
        params={
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
    ),
    "ModuleStep": Surface(
        members={
            "create_input_output_bindings": STEP_INTERNAL,
            "create_module_def": STEP_INTERNAL,
            "create_node": STEP_INTERNAL,
            "get_source_directory": STEP_INTERNAL,
            "resolve_input_arguments": STEP_INTERNAL,
            "validate_arguments": STEP_INTERNAL,
        },
    ),
    "Pipeline": Surface(
        members={
            "load_yaml": SDK_INTERNAL,
            "service_endpoint": SDK_INTERNAL,
        },
    ),
    "PipelineData": Surface(
        members={
            "as_dataset": SDK_INTERNAL,
            "as_input": SDK_INTERNAL,
            "create_input_binding": SDK_INTERNAL,
            "get_env_variable_name": SDK_INTERNAL,
        },
    ),
    "PipelineDraft": Surface(
        members={
            "get_graph": PUBLISHING,
            "parent_pipeline_draft_id": PUBLISHING,
            "parent_pipeline_id": PUBLISHING,
            "parent_pipeline_run_id": PUBLISHING,
            "parent_step_run_ids": PUBLISHING,
            "save": PUBLISHING,
        },
        properties=frozenset(
            [
                "parent_pipeline_draft_id",
                "parent_pipeline_id",
                "parent_pipeline_run_id",
                "parent_step_run_ids",
            ]
        ),
        params={
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
    ),
    "PipelineEndpoint": Surface(
        members={
            "archive": PUBLISHING,
            "get_all": PUBLISHING,
            "get_all_pipelines": PUBLISHING,
            "get_all_versions": PUBLISHING,
            "reactivate": PUBLISHING,
            "swaggerurl": PUBLISHING,
        },
        properties=frozenset(["swaggerurl"]),
        params={
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
    ),
    "PipelineRun": Surface(
        members={
            "add_properties": RUN_HISTORY,
            "add_type_provider": RUN_HISTORY,
            "child_run": RUN_HISTORY,
            "clean": RUN_HISTORY,
            "complete": RUN_HISTORY,
            "create_children": RUN_HISTORY,
            "description": RUN_HISTORY,
            "display_name": RUN_HISTORY,
            "download_file": RUN_HISTORY,
            "download_files": RUN_HISTORY,
            "fail": RUN_HISTORY,
            "flush": RUN_HISTORY,
            "get": RUN_HISTORY,
            "get_all_logs": RUN_HISTORY,
            "get_context": RUN_HISTORY,
            "get_detailed_status": RUN_HISTORY,
            "get_details_with_logs": RUN_HISTORY,
            "get_docs_url": RUN_HISTORY,
            "get_environment": RUN_HISTORY,
            "get_file_names": RUN_HISTORY,
            "get_graph": RUN_HISTORY,
            "get_pipeline_output": RUN_HISTORY,
            "get_pipeline_runs": RUN_HISTORY,
            "get_portal_url": RUN_HISTORY,
            "get_properties": RUN_HISTORY,
            "get_secret": RUN_HISTORY,
            "get_secrets": RUN_HISTORY,
            "get_snapshot_id": RUN_HISTORY,
            "get_submitted_run": RUN_HISTORY,
            "identity": RUN_HISTORY,
            "list": RUN_HISTORY,
            "list_by_compute": RUN_HISTORY,
            "log": RUN_HISTORY,
            "log_accuracy_table": RUN_HISTORY,
            "log_confusion_matrix": RUN_HISTORY,
            "log_image": RUN_HISTORY,
            "log_list": RUN_HISTORY,
            "log_predictions": RUN_HISTORY,
            "log_residuals": RUN_HISTORY,
            "log_row": RUN_HISTORY,
            "log_table": RUN_HISTORY,
            "name": RUN_HISTORY,
            "number": RUN_HISTORY,
            "parent": RUN_HISTORY,
            "portal_url": RUN_HISTORY,
            "properties": RUN_HISTORY,
            "register_model": RUN_HISTORY,
            "remove_tags": RUN_HISTORY,
            "restore_snapshot": RUN_HISTORY,
            "save": RUN_HISTORY,
            "set_tags": RUN_HISTORY,
            "start": RUN_HISTORY,
            "submit_child": RUN_HISTORY,
            "tag": RUN_HISTORY,
            "take_snapshot": RUN_HISTORY,
            "type": RUN_HISTORY,
            "upload_file": RUN_HISTORY,
            "upload_files": RUN_HISTORY,
            "upload_folder": RUN_HISTORY,
        },
        properties=frozenset(
            [
                "description",
                "display_name",
                "identity",
                "name",
                "number",
                "parent",
                "portal_url",
                "properties",
                "type",
            ]
        ),
        params={
            "get_metrics": Params(
                ignored={"populate": NO_EFFECT}, refused={"run_type": (None, FILTER)}
            ),
        },
    ),
    "PublishedPipeline": Surface(
        members={
            "get_all": PUBLISHING,
            "get_graph": PUBLISHING,
            "get_portal_url": PUBLISHING,
            "get_step_names": PUBLISHING,
            "portal_url": PUBLISHING,
            "save": PUBLISHING,
        },
        properties=frozenset(["portal_url"]),
        params={
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
    ),
    "PythonScriptStep": Surface(
        members={
            "create_input_output_bindings": STEP_INTERNAL,
            "create_module_def": STEP_INTERNAL,
            "create_node": STEP_INTERNAL,
            "get_source_directory": STEP_INTERNAL,
            "resolve_input_arguments": STEP_INTERNAL,
            "validate_arguments": STEP_INTERNAL,
        },
    ),
    "Run": Surface(
        members={
            "add_properties": STEP_RUN,
            "add_type_provider": STEP_RUN,
            "cancel": STEP_RUN,
            "child_run": STEP_RUN,
            "clean": STEP_RUN,
            "create_children": STEP_RUN,
            "description": STEP_RUN,
            "download_file": STEP_RUN,
            "download_files": STEP_RUN,
            "get": STEP_RUN,
            "get_all_logs": STEP_RUN,
            "get_children": STEP_RUN,
            "get_detailed_status": STEP_RUN,
            "get_details": STEP_RUN,
            "get_details_with_logs": STEP_RUN,
            "get_docs_url": STEP_RUN,
            "get_environment": STEP_RUN,
            "get_file_names": STEP_RUN,
            "get_portal_url": STEP_RUN,
            "get_properties": STEP_RUN,
            "get_secret": STEP_RUN,
            "get_secrets": STEP_RUN,
            "get_snapshot_id": STEP_RUN,
            "get_status": STEP_RUN,
            "get_submitted_run": STEP_RUN,
            "identity": STEP_RUN,
            "list": STEP_RUN,
            "list_by_compute": STEP_RUN,
            "log_accuracy_table": STEP_RUN,
            "log_confusion_matrix": STEP_RUN,
            "log_predictions": STEP_RUN,
            "log_residuals": STEP_RUN,
            "number": STEP_RUN,
            "portal_url": STEP_RUN,
            "properties": STEP_RUN,
            "register_model": STEP_RUN,
            "remove_tags": STEP_RUN,
            "restore_snapshot": STEP_RUN,
            "start": STEP_RUN,
            "status": STEP_RUN,
            "submit_child": STEP_RUN,
            "tags": STEP_RUN,
            "take_snapshot": STEP_RUN,
            "type": STEP_RUN,
            "upload_files": STEP_RUN,
            "upload_folder": STEP_RUN,
            "wait_for_completion": STEP_RUN,
        },
        properties=frozenset(
            [
                "description",
                "identity",
                "number",
                "portal_url",
                "properties",
                "status",
                "tags",
                "type",
            ]
        ),
        params={
            "__init__": Params(refused={"outputs": (None, FILTER)}),
            "get_context": Params(ignored={"used_for_context_manager": NO_EFFECT}),
            "get_metrics": Params(
                ignored={"populate": NO_EFFECT},
                refused={"recursive": (False, FILTER), "run_type": (None, FILTER)},
            ),
        },
    ),
    "RunConfiguration": Surface(
        members={
            "delete": RUNCONFIG,
            "load": RUNCONFIG,
            "save": RUNCONFIG,
        },
    ),
    "Schedule": Surface(
        members={
            "get_all": PUBLISHING,
            "load_yaml": PUBLISHING,
        },
        params={
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
    ),
    "ScriptRunConfig": Surface(
        members={
            "identity": RUNCONFIG,
        },
        properties=frozenset(["identity"]),
    ),
    "StepRun": Surface(
        members={
            "add_properties": RUN_HISTORY,
            "add_type_provider": RUN_HISTORY,
            "cancel": RUN_HISTORY,
            "child_run": RUN_HISTORY,
            "clean": RUN_HISTORY,
            "complete": RUN_HISTORY,
            "create_children": RUN_HISTORY,
            "description": RUN_HISTORY,
            "display_name": RUN_HISTORY,
            "download_file": RUN_HISTORY,
            "download_files": RUN_HISTORY,
            "fail": RUN_HISTORY,
            "flush": RUN_HISTORY,
            "get": RUN_HISTORY,
            "get_all_logs": RUN_HISTORY,
            "get_context": RUN_HISTORY,
            "get_detailed_status": RUN_HISTORY,
            "get_details_with_logs": RUN_HISTORY,
            "get_docs_url": RUN_HISTORY,
            "get_environment": RUN_HISTORY,
            "get_file_names": RUN_HISTORY,
            "get_portal_url": RUN_HISTORY,
            "get_properties": RUN_HISTORY,
            "get_secret": RUN_HISTORY,
            "get_secrets": RUN_HISTORY,
            "get_snapshot_id": RUN_HISTORY,
            "get_submitted_run": RUN_HISTORY,
            "identity": RUN_HISTORY,
            "list": RUN_HISTORY,
            "list_by_compute": RUN_HISTORY,
            "log": RUN_HISTORY,
            "log_accuracy_table": RUN_HISTORY,
            "log_confusion_matrix": RUN_HISTORY,
            "log_image": RUN_HISTORY,
            "log_list": RUN_HISTORY,
            "log_predictions": RUN_HISTORY,
            "log_residuals": RUN_HISTORY,
            "log_row": RUN_HISTORY,
            "log_table": RUN_HISTORY,
            "number": RUN_HISTORY,
            "parent": RUN_HISTORY,
            "pipeline_run_id": RUN_HISTORY,
            "portal_url": RUN_HISTORY,
            "properties": RUN_HISTORY,
            "register_model": RUN_HISTORY,
            "remove_tags": RUN_HISTORY,
            "restore_snapshot": RUN_HISTORY,
            "set_tags": RUN_HISTORY,
            "start": RUN_HISTORY,
            "submit_child": RUN_HISTORY,
            "tag": RUN_HISTORY,
            "tags": RUN_HISTORY,
            "take_snapshot": RUN_HISTORY,
            "type": RUN_HISTORY,
            "upload_file": RUN_HISTORY,
            "upload_files": RUN_HISTORY,
            "upload_folder": RUN_HISTORY,
            "wait_for_completion": RUN_HISTORY,
        },
        properties=frozenset(
            [
                "description",
                "display_name",
                "identity",
                "number",
                "parent",
                "pipeline_run_id",
                "portal_url",
                "properties",
                "tags",
                "type",
            ]
        ),
        params={
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
    ),
    "Workspace": Surface(
        members={
            "add_private_endpoint": WORKSPACE,
            "datasets": DATASETS_PENDING,
            "delete": WORKSPACE,
            "delete_connection": WORKSPACE,
            "delete_private_endpoint_connection": WORKSPACE,
            "diagnose_workspace": WORKSPACE,
            "discovery_url": WORKSPACE,
            "get_connection": WORKSPACE,
            "get_default_compute_target": WORKSPACE,
            "get_default_keyvault": WORKSPACE,
            "get_mlflow_tracking_uri": WORKSPACE,
            "get_run": WORKSPACE,
            "images": WORKSPACE,
            "linked_services": WORKSPACE,
            "list": WORKSPACE,
            "list_connections": WORKSPACE,
            "list_keys": WORKSPACE,
            "private_endpoints": WORKSPACE,
            "service_context": WORKSPACE,
            "set_connection": WORKSPACE,
            "setup": WORKSPACE,
            "sku": WORKSPACE,
            "sync_keys": WORKSPACE,
            "tags": WORKSPACE,
            "update": WORKSPACE,
            "update_dependencies": WORKSPACE,
            "webservices": WORKSPACE,
        },
        properties=frozenset(
            [
                "datasets",
                "discovery_url",
                "images",
                "linked_services",
                "private_endpoints",
                "service_context",
                "sku",
                "tags",
                "webservices",
            ]
        ),
        params={
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
    ),
}


def surface(name: str) -> Surface:
    """The entry of a class (an empty one when it has nothing to refuse)."""
    return SURFACES.get(name, Surface())
