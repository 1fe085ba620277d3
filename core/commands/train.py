"""Meta-train ProtoNet or MAML and write assets/models/<name>.safetensors + <name>.json.

    python -m core.train --algorithm protonet --name omniglot-protonet --episodes 20000
    python -m core.train --algorithm maml --name omniglot-maml --init-from omniglot-protonet

Resumable: the run folder holds state.pt, written atomically at every validation; run the
same command again after a kill and it continues from there. Model selection uses the
validation split only. With torchrun, the tasks of each meta-batch are split across ranks
and gradients averaged (DDP semantics by all_reduce; gloo on CPU, nccl on GPUs).
--init-from a MAML model also starts from its learned inner step sizes.
"""

from __future__ import annotations

import argparse
import json

import torch.distributed as dist

from core.cli import add_config_arguments, command_line, command_parser, config_from_args
from core.training.config import OmniglotConfig
from core.training.omniglot import OmniglotInputs
from core.training.trainer import Trainer

MODULE = "core.train"


def parse_args(argv: list[str] | None = None) -> tuple[OmniglotConfig, argparse.Namespace]:
    """The run's config and the other flags (--json, --quiet)."""
    parser = command_parser(MODULE, __doc__)
    add_config_arguments(parser, OmniglotConfig)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        return config_from_args(OmniglotConfig, args), args
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    config, args = parse_args(argv)
    command = command_line(MODULE, argv)
    result = Trainer(config, OmniglotInputs(config), command).run(quiet=args.quiet)
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    if result:
        print(json.dumps(result) if args.json else f"wrote {config.name}: {result}")
    return 0
