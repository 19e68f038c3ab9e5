from bpcli.cli import run

run()
