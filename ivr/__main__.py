"""`python -m ivr`: the same commands as `ivr`, for a platform that runs the source without installing it."""

from ivr.cli.main import main

main()
