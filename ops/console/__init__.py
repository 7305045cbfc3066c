"""The ops web console (`python -m ops serve`): aiohttp + Jinja2 over the `ops/` modules."""
