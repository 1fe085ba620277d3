"""The one command (see benchmarks):

python -m benchmarks [scaling | photo-speed | projections | live-fps | load | journeys |
                     roofline] [--flags]
"""

from __future__ import annotations

import sys

from benchmarks import compare, scaling


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command, rest = argv[:1], argv[1:]
    if command == ["scaling"]:
        return scaling.main(rest)
    if command == ["point"]:  # one scaling point, in the fresh process run_scaling starts
        return scaling.point_main(rest)
    if command == ["photo-speed"]:
        from benchmarks import photo_speed  # imported only when asked for

        return photo_speed.main(rest)
    if command == ["projections"]:  # the Embedding space page's PCA, t-SNE and UMAP
        from benchmarks import projections

        return projections.main(rest)
    if command == ["load"]:  # Chromium sessions against one server (needs Playwright)
        from benchmarks import load

        return load.main(rest)
    if command == ["journeys"]:  # click-to-settled waits in Chromium (needs Playwright)
        from benchmarks import journeys

        return journeys.main(rest)
    if command == ["roofline"]:  # achieved GFLOP/s of the two steps as a share of the peak
        from benchmarks import roofline

        return roofline.main(rest)
    if command == ["live-fps"]:
        from benchmarks import live_fps  # imported only when asked for

        return live_fps.main(rest)
    return compare.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
