"""Images members attach to posts: checked, cleaned of metadata, kept in the database.

The database (not a disk directory) holds them so every web process of a scaled-out node serves
the same files. An image must come with alt text (it federates as the attachment's `name`, which
Mastodon shows to screen-reader users); JPEG, PNG and WebP are re-encoded so camera metadata
(EXIF, GPS position) never leaves the node. Decoding runs in a thread: it is CPU work.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from activitypub.vocab import Document
from node.settings import Settings
from node.storage import MediaRow, Store
from node.wording import WordedError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuses decompression bombs long before they fill memory
MAX_ALT_CHARS = 1500  # Mastodon's limit for a media description
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class UploadError(WordedError):
    """An upload we refuse; the message tells the member what to change."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    media_type: str
    width: int
    height: int


def _reencoded(image: Image.Image, format_name: str) -> bytes:
    """The pixels only: upright (EXIF orientation applied), with no metadata."""
    upright = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if format_name == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    else:
        upright.save(out, format_name)
    return out.getvalue()


def clean_image(data: bytes) -> CleanImage:
    """Decode and check an upload; raises UploadError for anything but a sane image."""
    if len(data) > MAX_IMAGE_BYTES:
        raise UploadError(
            f"the image is over {MAX_IMAGE_BYTES // (1024 * 1024)} MB; make it smaller"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            format_name = image.format or ""
            if format_name not in MEDIA_TYPES:
                raise UploadError("use a JPEG, PNG, GIF or WebP image")
            if image.width * image.height > MAX_PIXELS:
                raise UploadError("the image has too many pixels; make it smaller")
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning) as exc:
        raise UploadError("that file is not an image we can read") from exc
    # GIFs keep their frames as they are (GIF carries no camera metadata).
    cleaned = data if format_name == "GIF" else _reencoded(image, format_name)
    return CleanImage(cleaned, MEDIA_TYPES[format_name], image.width, image.height)


def _fitted(image: Image.Image, width: int, height: int) -> bytes:
    """The centre of the picture cropped to `width` by `height` pixels, as a JPEG of the pixels
    alone (no metadata)."""
    upright = ImageOps.exif_transpose(image)
    flat = Image.new("RGB", upright.size, "white")  # transparency over white, as most apps show
    flat.paste(upright.convert("RGBA"), mask=upright.convert("RGBA"))
    out = io.BytesIO()
    ImageOps.fit(flat, (width, height), Image.Resampling.LANCZOS).save(out, "JPEG", quality=85)
    return out.getvalue()


def fitted_images(data: bytes, boxes: tuple[tuple[int, int], ...]) -> dict[str, CleanImage]:
    """An uploaded picture checked like any image, cropped to each box, by "<w>x<h>"."""
    clean_image(data)  # the same checks: size, format, pixel count, decodes
    image = Image.open(io.BytesIO(data))
    image.seek(0)  # an animated GIF gives its first frame
    return {f"{w}x{h}": CleanImage(_fitted(image, w, h), "image/jpeg", w, h) for w, h in boxes}


def square_images(data: bytes, sizes: tuple[int, ...]) -> dict[int, CleanImage]:
    """Square crops at each size (avatars, the community's logo)."""
    fitted = fitted_images(data, tuple((size, size) for size in sizes))
    return {size: fitted[f"{size}x{size}"] for size in sizes}


async def store_fitted(
    store: Store, owner_id: int, data: bytes, alt: str, boxes: tuple[tuple[int, int], ...]
) -> str:
    """A picture checked and kept cropped to each box as media `<id>-<suffix>` (see
    `fitted_ids`); returns the id. Raises UploadError."""
    images = await asyncio.to_thread(fitted_images, data, boxes)
    picture_id = secrets.token_urlsafe(12)
    for (width, height), image in zip(boxes, images.values(), strict=True):
        await store.insert_media(
            public_id=f"{picture_id}-{_suffix(width, height)}",
            owner_id=owner_id,
            post_id=None,
            media_type=image.media_type,
            alt=alt[:200],
            width=width,
            height=height,
            data=image.data,
        )
    return picture_id


def _suffix(width: int, height: int) -> str:
    return str(width) if width == height else f"{width}x{height}"


def fitted_ids(picture_id: str, boxes: tuple[tuple[int, int], ...]) -> list[str]:
    """The media ids `store_fitted` gave a picture: `<id>-<size>` for a square (as members'
    pictures have always been), `<id>-<w>x<h>` otherwise."""
    return [f"{picture_id}-{_suffix(w, h)}" for w, h in boxes]


def squares(sizes: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((size, size) for size in sizes)


def checked_alt(alt: str) -> str:
    text = " ".join(alt.split())
    if not text:
        raise UploadError("describe the image in the alt text: people who cannot see it need it")
    if len(text) > MAX_ALT_CHARS:
        raise UploadError("keep the alt text under {most} characters", most=MAX_ALT_CHARS)
    return text


async def store_image(store: Store, owner_id: int, data: bytes, alt: str) -> MediaRow:
    description = checked_alt(alt)
    image = await asyncio.to_thread(clean_image, data)
    return await store.insert_media(
        public_id=secrets.token_urlsafe(12),
        owner_id=owner_id,
        post_id=None,
        media_type=image.media_type,
        alt=description,
        width=image.width,
        height=image.height,
        data=image.data,
    )


def media_url(settings: Settings, media: MediaRow) -> str:
    return f"{settings.url}/media/{media.public_id}"


def attachment(settings: Settings, media: MediaRow) -> Document:
    """An `Image` attachment as Mastodon reads it (`name` is the alt text); a document
    (node/content/documents.py, no pixels) is a `Document` whose `name` is its title."""
    if not media.media_type.startswith("image/"):
        return {
            "type": "Document",
            "mediaType": media.media_type,
            "url": media_url(settings, media),
            "name": media.alt,
        }
    return {
        "type": "Image",
        "mediaType": media.media_type,
        "url": media_url(settings, media),
        "name": media.alt,
        "width": media.width,
        "height": media.height,
    }
