"""Face pixelation time per 1280x720 image on one core (issue #5 target: <= 300 ms).

    python bench/privacy/faces.py --repeat 30

The images are scikit-image's bundled photographs with faces (the astronaut, and a
grey portrait), scaled to 720 px high and centred on a 1280x720 canvas, plus the same
canvases mirrored; nothing is downloaded. OpenCV is held to one thread. Prints the
faces found per image and the median, p90 and max of ``redact_image`` in ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
from skimage import data

from loupe.privacy.images import Pixels, redact_image


def _canvases() -> list[tuple[str, Pixels]]:
    out = []
    for name in ("astronaut", "camera"):
        photo = getattr(data, name)()
        if photo.ndim == 2:
            photo = np.stack([photo] * 3, axis=-1)
        height, width = photo.shape[:2]
        scaled = cv2.resize(photo, (round(width * 720 / height), 720))
        canvas = np.zeros((720, 1280, 3), np.uint8)
        left = (1280 - scaled.shape[1]) // 2
        canvas[:, left : left + scaled.shape[1]] = scaled
        out += [(name, canvas), (f"{name} mirrored", np.ascontiguousarray(canvas[:, ::-1]))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    times: list[float] = []
    for name, canvas in _canvases():
        faces = len(redact_image(canvas).regions)  # warm-up, and the count
        own = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            redact_image(canvas)
            own.append((time.perf_counter() - t0) * 1000)
        times += own
        print(f"{name:20} 1280x720  faces: {faces}  median {statistics.median(own):6.1f} ms")
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(
        f"all {len(times)} runs: median {statistics.median(times):.1f} ms, "
        f"p90 {p90:.1f} ms, max {times[-1]:.1f} ms (target <= 300 ms)"
    )


if __name__ == "__main__":
    main()
