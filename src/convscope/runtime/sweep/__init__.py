"""Training a sweep's trials: one trial wherever it runs and the local runner (local), Ray
tasks (ray_tasks), the run-opening rule (trials) and the pooling experiment as a sweep
over its variants (pooling)."""
