"""Pillow doing the normalisation in its fastest form, as the baseline for normalize_bench.

draft() lets libjpeg-turbo decode at a reduced DCT scale, then EXIF orientation, resize to a
1536 px long edge, and a JPEG encode without metadata. Prints the median of 20 runs.
Needs Pillow from PyPI: pip install pillow
"""
import io
import pathlib
import statistics
import time

from PIL import Image, ImageOps

PHOTO = pathlib.Path(__file__).resolve().parents[3] / "shared/fixtures/drug-photos/calcium-d3-front.jpg"


def normalise(data: bytes) -> bytes:
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (1536, 1536))
    img = ImageOps.exif_transpose(img)
    img.thumbnail((1536, 1536), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def main() -> None:
    data = PHOTO.read_bytes()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        normalise(data)
        times.append((time.perf_counter() - start) * 1000)
    print(f"pillow (draft) median {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f}) over 20 runs")


if __name__ == "__main__":
    main()
