"""`python -m core.train`: meta-train ProtoNet or MAML on Omniglot (core.commands.train)."""

from core.commands.train import main

if __name__ == "__main__":
    raise SystemExit(main())
