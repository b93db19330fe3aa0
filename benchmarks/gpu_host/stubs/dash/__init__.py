# Stand-in for dash (see plotly/__init__.py).
html = dcc = None


class Dash:
    pass
