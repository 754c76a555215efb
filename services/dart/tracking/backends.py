"""The three trackers behind dart.tracking's one interface; each imports its package when
it is chosen, never before.

    tensorboard   event files in LOG_DIR/tensorboard/<unit>/ (tensorboardX writes them;
                  `tensorboard --logdir LOG_DIR/tensorboard` shows every unit as a run)
    mlflow        one MLflow run per unit in the experiment (default: the DartRun's name),
                  tagged dart.run and dart.unit; a server, or a file store on disk
    wandb         one W&B run per unit, group = the DartRun's name; online or offline
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from dart.config.spec import Tracking
from dart.errors import UserError
from dart.tracking.base import Tracker, TrackerRun

MLFLOW_FIELD = "spec.tracking.mlflow.trackingUri"
WANDB_FIELD = "spec.tracking.wandb"


class TensorBoardTracker(Tracker):
    def __init__(self, tracking: Tracking, where: TrackerRun):
        from tensorboardX import SummaryWriter

        folder = where.log_dir / "tensorboard" / where.unit
        # Flushed every 10 s, not tensorboardX's 120: a learner's curve shows while it runs.
        self.writer = SummaryWriter(logdir=str(folder), flush_secs=10)

    def log(self, metrics: dict[str, float], step: int | None) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        self.writer.close()


def mlflow_uri(tracking: Tracking, where: TrackerRun) -> str:
    """The spec's URI, else MLFLOW_TRACKING_URI, else a file store under the log folder; a
    bare folder becomes a file: URI."""
    uri = tracking.mlflow.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or \
        str(where.log_dir / "mlruns")
    if "://" in uri or uri.startswith(("file:", "databricks")):
        return uri
    return Path(uri).expanduser().resolve().as_uri()


class MlflowTracker(Tracker):
    def __init__(self, tracking: Tracking, where: TrackerRun):
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        uri = mlflow_uri(tracking, where)
        if uri.startswith("file:"):
            # MLflow 3 refuses its file store unless asked: it is in maintenance mode, and a
            # database store needs SQLAlchemy, which mlflow-skinny leaves out.
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        try:
            self.client = MlflowClient(tracking_uri=uri)
            experiment = self._experiment(tracking.mlflow.experiment or where.run)
            tags = {"dart.run": where.run, "dart.unit": where.unit}
            self.run_id = self.client.create_run(experiment, run_name=where.unit,
                                                 tags=tags).info.run_id
        except MlflowException as error:
            raise UserError(f"{MLFLOW_FIELD}: cannot record in {uri}: "
                            f"{_first_line(error)}") from None

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        return found.experiment_id if found else self.client.create_experiment(name)

    def log(self, metrics: dict[str, float], step: int | None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[
            Metric(name, value, now, step or 0) for name, value in metrics.items()])

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


class WandbTracker(Tracker):
    def __init__(self, tracking: Tracking, where: TrackerRun):
        import wandb

        options = tracking.wandb
        where.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.run = wandb.init(
                project=options.project, entity=options.entity, mode=options.mode,
                group=where.run, name=where.unit, dir=str(where.log_dir),
                settings=wandb.Settings(silent=True, console="off"))
        except (wandb.errors.Error, OSError) as error:
            raise UserError(f"{WANDB_FIELD}: cannot start a W&B run ({options.mode}): "
                            f"{_first_line(error)}; online needs WANDB_API_KEY") from None

    def log(self, metrics: dict[str, float], step: int | None) -> None:
        self.run.log(metrics, step=step)

    def close(self) -> None:
        self.run.finish()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


BACKENDS: dict[str, type[Tracker]] = {"tensorboard": TensorBoardTracker,
                                      "mlflow": MlflowTracker, "wandb": WandbTracker}
