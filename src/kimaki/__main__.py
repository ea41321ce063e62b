from kimaki.cli import entrypoint

entrypoint()
