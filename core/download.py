"""`python -m core.download --root DIR/omniglot`: fetch Omniglot where there is internet
(core.commands.download; the library function is core.data.download_omniglot)."""

from core.commands.download import main

if __name__ == "__main__":
    raise SystemExit(main())
