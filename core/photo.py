"""`python -m core.photo features|train`: cache photo features and meta-train heads over them
(core.commands.photo; the library is core.features and core.training)."""

from core.commands.photo import main

if __name__ == "__main__":
    raise SystemExit(main())
