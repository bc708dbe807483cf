from telecrm.cli.main import run

run()
