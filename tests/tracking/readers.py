"""Read back what each tracker wrote, with the readers their users would use: TensorBoard's
own event reader, the MLflow client, and the records of a W&B offline run file."""

from __future__ import annotations

import json
import struct
from pathlib import Path


def tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def mlflow_runs(uri: str, experiment: str) -> dict[str, dict]:
    """run name -> {"tags": ..., "metrics": {name: [(step, value)]}, "status": ...}."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    runs = {}
    for run in client.search_runs([found.experiment_id]):
        history = {name: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id,
                                                                              name)]
                   for name in run.data.metrics}
        runs[run.info.run_name] = {"tags": run.data.tags, "metrics": history,
                                   "status": run.info.status}
    return runs


BLOCK, HEADER = 32 * 1024, 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def wandb_records(path: Path) -> list:
    """The protobuf records of a W&B run file: a 7-byte header (`:W&B`, magic, version),
    then LevelDB-log records (crc32, length, type) in 32 KiB blocks."""
    from wandb.proto import wandb_internal_pb2

    data, records, pending = path.read_bytes(), [], b""
    assert data[:4] == b":W&B", path
    offset = HEADER
    while offset + HEADER <= len(data):
        if BLOCK - offset % BLOCK < HEADER:  # the block's tail is padding
            offset += BLOCK - offset % BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[offset:offset + HEADER])
        if length == 0 and kind == 0:
            break
        pending += data[offset + HEADER:offset + HEADER + length]
        offset += HEADER + length
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def wandb_offline_run(log_dir: Path) -> dict:
    """{"run": the run record, "history": [{key: value, "_step": n}], "kinds": every
    record's type} of the one offline run under `log_dir`."""
    (path,) = sorted(log_dir.glob("wandb/offline-run-*/run-*.wandb"))
    run, history, kinds = None, [], []
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        kinds.append(kind)
        if kind == "run":
            run = record.run
        elif kind == "history":
            history.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                            for item in record.history.item})
    return {"run": run, "history": history, "kinds": kinds}
