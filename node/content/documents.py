"""Documents members attach to reports (PDF, ODT text): recognised by their bytes, capped in
size, kept in the media table beside images, served as downloads.

The browser's Content-Type and the file name are the uploader's claims, so they decide
nothing: a PDF starts with `%PDF-` (ISO 32000-1, 7.5.2); an ODF package is a ZIP whose entry
`mimetype` holds the media type (OASIS ODF 1.3 part 2, 3.3). Anything else is refused.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import zipfile
from urllib.parse import quote

from node.storage import MediaRow, Store

from .uploads import UploadError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_NAME_CHARS = 200
ODT = "application/vnd.oasis.opendocument.text"
EXTENSIONS = {"application/pdf": "pdf", ODT: "odt"}
REFUSED = "attach a PDF or ODT (OpenDocument text) file"


def sniff(data: bytes) -> str:
    """The media type the bytes really are, or UploadError."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read(info).strip() == ODT.encode():
                    return ODT
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError) as exc:
            raise UploadError(REFUSED) from exc
    raise UploadError(REFUSED)


def checked_name(name: str, filename: str) -> str:
    """What the document is called: the member's words, else the file's name without path."""
    text = " ".join(name.split()) or filename.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(text.split())[:MAX_NAME_CHARS]
    if not text:
        raise UploadError("give the document a name")
    return text


async def store_document(
    store: Store, owner_id: int, data: bytes, name: str, filename: str
) -> MediaRow:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UploadError(
            "the document is over {most} MB", most=MAX_DOCUMENT_BYTES // (1024 * 1024)
        )
    media_type = sniff(data)
    return await store.insert_media(
        public_id=secrets.token_urlsafe(12),
        owner_id=owner_id,
        post_id=None,
        media_type=media_type,
        alt=checked_name(name, filename),
        width=0,
        height=0,
        data=data,
    )


def is_document(media: MediaRow) -> bool:
    return media.media_type in EXTENSIONS


def content_disposition(media: MediaRow) -> str:
    """`attachment` (download, never render), with an ASCII filename and the RFC 6266 UTF-8 one."""
    extension = EXTENSIONS[media.media_type]
    ascii_name = unicodedata.normalize("NFKD", media.alt).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.")[:80] or "document"
    utf8 = quote(f"{media.alt[:80]}.{extension}", safe="")
    return f"attachment; filename=\"{stem}.{extension}\"; filename*=UTF-8''{utf8}"
