from telecrm.cli import run

run()
