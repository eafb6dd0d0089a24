"""Read what an image file says about people: its file name and EXIF metadata (Pillow). Pure reads.

Fields of three kinds:

- free text scanned like any text column: the file name stem (``_`` read as a space),
  ``ImageDescription``, ``UserComment``, ``XPComment``, ``XPSubject``, ``XPTitle``,
  ``XPKeywords`` and the JPEG comment;
- fields that identify a person whatever they hold (entity type ``EXIF_OWNER``):
  ``Artist``, ``Copyright``, ``CameraOwnerName``, ``XPAuthor``;
- fields that identify a device (``DEVICE_SERIAL``): ``BodySerialNumber``,
  ``LensSerialNumber``; and a GPS position (``GPS_LOCATION``) when ``GPSInfo`` holds a
  latitude and a longitude.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: file name suffixes read as images (as torchvision's ImageFolder)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
#: entity types the metadata reader reports by field, without a text scan
METADATA_ENTITIES = ("DEVICE_SERIAL", "EXIF_OWNER", "GPS_LOCATION")

_IFD0_TEXT = {0x010E: "ImageDescription", 0x9C9C: "XPComment", 0x9C9F: "XPSubject", 0x9C9B: "XPTitle",
              0x9C9E: "XPKeywords"}
_IFD0_OWNER = {0x013B: "Artist", 0x8298: "Copyright", 0x9C9D: "XPAuthor"}
_EXIF_TEXT = {0x9286: "UserComment"}
_EXIF_OWNER = {0xA430: "CameraOwnerName"}
_EXIF_SERIAL = {0xA431: "BodySerialNumber", 0xA435: "LensSerialNumber"}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825


@dataclass(frozen=True)
class ImageField:
    """One field of one image: ``kind`` is ``"text"`` (to scan) or a metadata entity type."""

    image: int
    field: str
    kind: str
    value: str


def list_images(root: Path) -> list[tuple[Path, str]]:
    """``(path, class name)`` of every image under ``root/<class>/``, in ImageFolder order."""
    found: list[tuple[Path, str]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        found += [(p, folder.name) for p in files]
    return found


def _text(value) -> str:
    if isinstance(value, bytes):
        head, body = value[:8], value[8:]
        if head.startswith(b"UNICODE"):
            return body.decode("utf-16", errors="replace").strip("\x00 ")
        if head.startswith((b"ASCII", b"JIS", b"\x00" * 8)):
            return body.decode("utf-8", errors="replace").strip("\x00 ")
        try:  # XP* tags: UTF-16-LE bytes
            return value.decode("utf-16-le").strip("\x00 ")
        except UnicodeDecodeError:
            return value.decode("utf-8", errors="replace").strip("\x00 ")
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return _text(bytes(value))
    return str(value).strip("\x00 ")


def _gps(gps: dict) -> str | None:
    lat, lon = gps.get(2), gps.get(4)
    if not lat or not lon:
        return None

    def degrees(dms) -> float:
        d, m, s = (float(x) for x in dms)
        return d + m / 60 + s / 3600

    sign_lat = -1 if str(gps.get(1, "N")).upper().startswith("S") else 1
    sign_lon = -1 if str(gps.get(3, "E")).upper().startswith("W") else 1
    return f"{sign_lat * degrees(lat):.5f}, {sign_lon * degrees(lon):.5f}"


def read_fields(path: Path, image: int) -> list[ImageField]:
    """The file name stem and the EXIF fields above of ``path`` (image index ``image``).

    An image Pillow cannot open yields its file name only, and a field ``unreadable``.
    """
    from PIL import Image, UnidentifiedImageError

    fields = [ImageField(image, "file_name", "text", path.stem.replace("_", " "))]
    try:
        with Image.open(path) as img:
            exif = img.getexif()
            comment = img.info.get("comment")
    except (UnidentifiedImageError, OSError):
        return fields + [ImageField(image, "unreadable", "unreadable", "")]
    if comment:
        fields.append(ImageField(image, "JpegComment", "text", _text(comment)))
    tables = [(dict(exif), _IFD0_TEXT, "text"), (dict(exif), _IFD0_OWNER, "EXIF_OWNER")]
    sub = dict(exif.get_ifd(_EXIF_IFD))
    tables += [(sub, _EXIF_TEXT, "text"), (sub, _EXIF_OWNER, "EXIF_OWNER"), (sub, _EXIF_SERIAL, "DEVICE_SERIAL")]
    for table, names, kind in tables:
        for tag, name in names.items():
            value = _text(table[tag]) if tag in table else ""
            if value:
                fields.append(ImageField(image, name, kind, value))
    position = _gps(dict(exif.get_ifd(_GPS_IFD)))
    if position:
        fields.append(ImageField(image, "GPSInfo", "GPS_LOCATION", position))
    return fields


def has_metadata(path: Path) -> bool:
    """True when ``path`` carries EXIF, a JPEG comment or XMP (what redaction strips)."""
    from PIL import Image

    with Image.open(path) as img:
        return bool(img.getexif()) or bool(img.info.get("comment")) or bool(img.info.get("xmp"))
