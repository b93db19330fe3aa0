// Plane boundaries arrive as polygons; engines draw triangles. Plane outlines are often concave
// (an L-shaped floor), so a triangle fan is not enough: ear clipping handles any simple polygon.
using System;
using System.Collections.Generic;

namespace Sora.Core
{
    public static class PolygonTriangulator
    {
        /// <summary>
        /// Triangulates a simple polygon given as (x, y) pairs in either winding. Returns vertex
        /// indices, three per triangle, counter-clockwise in the polygon's (x, y) coordinates.
        /// </summary>
        public static int[] Triangulate(IList<float> xy)
        {
            int n = xy.Count / 2;
            var result = new List<int>();
            if (n < 3) return result.ToArray();
            var idx = new List<int>(n);
            bool ccw = SignedArea(xy) > 0;
            for (int i = 0; i < n; i++) idx.Add(ccw ? i : n - 1 - i);

            int guard = 0;
            while (idx.Count > 3 && guard++ < n * n)
            {
                bool clipped = false;
                for (int i = 0; i < idx.Count; i++)
                {
                    int a = idx[(i + idx.Count - 1) % idx.Count], b = idx[i], c = idx[(i + 1) % idx.Count];
                    if (Cross(xy, a, b, c) <= 1e-12f) continue;  // reflex or degenerate corner
                    bool empty = true;
                    for (int j = 0; j < idx.Count && empty; j++)
                    {
                        int p = idx[j];
                        if (p != a && p != b && p != c && Inside(xy, p, a, b, c)) empty = false;
                    }
                    if (!empty) continue;
                    result.Add(a);
                    result.Add(b);
                    result.Add(c);
                    idx.RemoveAt(i);
                    clipped = true;
                    break;
                }
                if (!clipped) break;  // not simple (self-intersecting): keep what was clipped
            }
            if (idx.Count == 3)
            {
                result.Add(idx[0]);
                result.Add(idx[1]);
                result.Add(idx[2]);
            }
            return result.ToArray();
        }

        public static float SignedArea(IList<float> xy)
        {
            int n = xy.Count / 2;
            double area = 0;
            for (int i = 0; i < n; i++)
            {
                int j = (i + 1) % n;
                area += (double)xy[2 * i] * xy[2 * j + 1] - (double)xy[2 * j] * xy[2 * i + 1];
            }
            return (float)(area / 2);
        }

        private static float Cross(IList<float> xy, int a, int b, int c)
        {
            return (xy[2 * b] - xy[2 * a]) * (xy[2 * c + 1] - xy[2 * a + 1]) - (xy[2 * b + 1] - xy[2 * a + 1]) * (xy[2 * c] - xy[2 * a]);
        }

        private static bool Inside(IList<float> xy, int p, int a, int b, int c)
        {
            return Cross(xy, a, b, p) >= 0 && Cross(xy, b, c, p) >= 0 && Cross(xy, c, a, p) >= 0;
        }
    }
}
