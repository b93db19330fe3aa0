# See plotly/__init__.py.
