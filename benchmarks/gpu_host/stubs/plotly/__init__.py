# Stand-in for plotly: open3d.visualization imports its plotting helpers at import time; the mapping
# bench on the lent GPU machine (no package registry there) never calls them.
