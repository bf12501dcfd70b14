"""DataTransferStep as an Argo template: input artifact = source, output artifact = destination.

Argo's artifact drivers (S3, Azure Blob, the artifact repository for local datastores) do
the copying on both ends; the container in between only places a file into a folder when
the destination is a directory. Outputs are not archived, so the destination holds the same
files as the source. The local executor runs the same template with the same drivers.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from hera.workflows.models import (
    ArchiveStrategy,
    Artifact,
    Container,
    Inputs,
    Metadata,
    NoneStrategy,
    Outputs,
    Parameter,
    Template,
)

from kubeline.compiler.argo.locations import artifact_location
from kubeline.exceptions import KubelineError
from kubeline.graph.model import Step
from kubeline.graph.names import param_name
from kubeline.workspace.config import WorkspaceConfig

SOURCE = "/kubeline/transfer/source"
DESTINATION = "/kubeline/transfer/destination"

# $1 source type, $2 destination type, $3 file name used when a file lands in a folder
COPY_SCRIPT = f"""set -eu
src={SOURCE}
dst={DESTINATION}
stype="$1"
dtype="$2"
if [ -z "$stype" ]; then if [ -d "$src" ]; then stype=directory; else stype=file; fi; fi
if [ -z "$dtype" ]; then dtype="$stype"; fi
if [ "$stype" = directory ]; then
  if [ ! -d "$src" ]; then echo "kubeline: the source is a file, not a directory" >&2; exit 1; fi
  if [ "$dtype" != directory ]; then
    echo "kubeline: a directory cannot be copied onto a file destination" >&2; exit 1
  fi
  mkdir -p "$dst"
  cp -R "$src/." "$dst/"
elif [ "$dtype" = directory ]; then
  mkdir -p "$dst"
  cp "$src" "$dst/$3"
else
  cp "$src" "$dst"
fi
echo "kubeline: copied $stype to $dtype"
"""


def transfer_template(step: Step, template_name: str, config: WorkspaceConfig,
                      labels: dict[str, str]) -> Template:
    """The template of one DataTransferStep (its destination is fixed, so one per step)."""
    settings: dict[str, Any] = json.loads(step.settings)
    dest = settings["destination"]
    source = step.inputs[0]
    if dest["datastore"] not in config.datastores:
        raise KubelineError(f"step '{step.name}': destination datastore '{dest['datastore']}' "
                            "is not registered", "register it with Datastore.register_*")
    location = artifact_location(dest["datastore"], config.datastores[dest["datastore"]],
                                 dest["path"])
    file_name = posixpath.basename(source.path.rstrip("/")) or "data"
    return Template(
        name=template_name,
        metadata=Metadata(labels=labels, annotations={"kubeline.io/step": step.id}),
        inputs=Inputs(
            parameters=[Parameter(name="step", default=step.id),
                        Parameter(name="upstream", default="")],
            artifacts=[Artifact(name=param_name(source.name), path=SOURCE)]),
        outputs=Outputs(artifacts=[Artifact(
            name=param_name(dest["name"]), path=DESTINATION,
            archive=ArchiveStrategy(none=NoneStrategy()), **location)]),
        container=Container(
            image=config.cluster.runtime_image,
            command=["sh", "-c", COPY_SCRIPT, "transfer"],
            args=[settings.get("source_type", ""), settings.get("destination_type", ""),
                  file_name],
        ),
    )
