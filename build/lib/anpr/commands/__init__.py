"""One module per `anpr` subcommand, each with ``main(argv=None) -> int``.

The scripts in scripts/ and ``anpr <command>`` (anpr/cli.py) both call these. A command imports
its heavy dependencies inside ``main`` so that listing commands and ``--help`` stay quick.
"""
