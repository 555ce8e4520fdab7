"""Run the training code the way SageMaker does, on a laptop with no Docker and no GPU.

The host side of the container contract, for the local loop (scripts/local_loop.py), the tests and
the benchmark: a SageMaker directory tree under a temporary directory (``tree``), deterministic
sample data (``sample_data``), and the containers' entry points run as processes, the
model.tar.gz packing between them and an HTTP client for the server (``containers``). It is not
copied into the images.
"""
