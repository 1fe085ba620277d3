"""The command-line programs: thin wrappers over the library, one module per command.

`python -m core.<name>` runs core.commands.<name>.main (each library package's __main__.py,
or the two-line core/train.py, core/photo.py, core/download.py, delegates to it). Every one
starts from core.cli's preamble (command_parser, command_line, input_error); the library
modules they call have no argparse and no main().
"""
