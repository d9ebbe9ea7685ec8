"""`init_torch_process_group`: join the torchrun job this process is in."""

import os

from keras_perceiver.backend_differences import (
    BACKENDS,
    TORCHRUN_VARIABLES,
    under_torchrun,
)


def init_torch_process_group():
    """Joins the `torch.distributed` process group that torchrun set up.

    Reads `WORLD_SIZE`, `RANK` and `LOCAL_RANK` (and `MASTER_ADDR`,
    `MASTER_PORT`) from the environment torchrun gives each process, picks
    the NCCL backend with GPUs and gloo otherwise, and, with GPUs, makes GPU
    `LOCAL_RANK` this process's device (before any Keras weight is made, so
    that the model lands there). Calling it again is harmless.

    Returns:
        A tuple `(rank, local_rank, world_size)`.

    Example:

    ```python
    # torchrun --nproc_per_node=4 train.py
    rank, local_rank, world_size = init_torch_process_group()
    ```
    """
    BACKENDS["torch"].require("init_torch_process_group")
    if not under_torchrun():
        missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
        raise ValueError(
            "`init_torch_process_group` must run under torchrun, which sets "
            "WORLD_SIZE, RANK and LOCAL_RANK (e.g. `torchrun "
            "--nproc_per_node=2 script.py`). Received: an environment "
            f"without {', '.join(missing)}"
        )
    import torch
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    local_rank = int(os.environ["LOCAL_RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            dist.init_process_group("nccl", device_id=local_rank)
        else:
            dist.init_process_group("gloo")
    return rank, local_rank, world_size
