"""Training scripts: each resumes from its checkpoint, logs to a file and records its data, steps and time."""
