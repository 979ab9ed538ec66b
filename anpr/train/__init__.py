"""Training: the LightningModule, the run, losses, callbacks, the schedule planner and DDP."""
