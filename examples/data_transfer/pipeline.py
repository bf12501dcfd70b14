"""DataTransferStep: S3 -> Azure Blob (a folder), then Azure Blob -> a local folder (a file).

Each step is an Argo template whose input artifact is the source and whose output artifact
is the destination, so Argo's own artifact drivers copy the data; `kubeline run` does the
same with the same drivers. Seed the S3 data first: `python seed.py`.
"""

from kubeline import (
    DataReference,
    Datastore,
    DataTransferStep,
    Pipeline,
    Workspace,
)

ws = Workspace.from_config()
s3 = Datastore(ws, "s3data")
blob = Datastore(ws, "blobdata")
local = Datastore(ws, "localcopy")

weather_s3 = DataReference(s3, data_reference_name="weather_s3", path_on_datastore="weather")
weather_blob = DataReference(blob, data_reference_name="weather_blob",
                             path_on_datastore="landing/weather")
stations_blob = DataReference(blob, data_reference_name="stations_blob",
                              path_on_datastore="landing/weather/stations.csv")
stations_local = DataReference(local, data_reference_name="stations_local",
                               path_on_datastore="reference")

to_blob = DataTransferStep(
    name="s3-to-blob",
    source_data_reference=weather_s3,
    destination_data_reference=weather_blob,
    source_reference_type="directory",
)
to_local = DataTransferStep(
    name="blob-to-local",
    source_data_reference=stations_blob,
    destination_data_reference=stations_local,
    source_reference_type="file",
    destination_reference_type="directory",
)
to_local.run_after(to_blob)

pipeline = Pipeline(workspace=ws, steps=[to_blob, to_local])
