"""Meta-training: typed configs (config), the resumable run (run), one Trainer for every
model (trainer), and what differs per input: Omniglot images (omniglot) or cached photo
features (heads). The CLIs are core.train and core.photo."""
