from rackforge.cli import app

app(prog_name="rackforge")
