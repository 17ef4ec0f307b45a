"""Training with Lightning: the LightningModule, losses, and the light-checkpoint export."""
