"""Put the example's data on the S3 datastore (run once before `kubeline run pipeline.py`)."""

from kubeline import Datastore, Workspace

ws = Workspace.from_config()
Datastore(ws, "s3data").upload(src_dir="data", target_path="weather", overwrite=True,
                               show_progress=False)
print("uploaded data/ to s3data:weather")
