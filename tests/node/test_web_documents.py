"""Documents attached to reports: the type is sniffed from the bytes (never the client's claim),
the size is capped, they federate as `Document` attachments with a name, and they are served
as downloads that no browser renders or sniffs."""

from __future__ import annotations

import io
import zipfile

import httpx

from node.content import documents

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in, token

AP = {"Accept": "application/activity+json"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def odt(mimetype: str = ODT_TYPE) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first and stored, per ODF
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


async def _write(
    net: Network, data: bytes, filename: str, claimed: str, name: str = "Minutes of May"
) -> httpx.Response:
    form = {
        "csrf": await token(net.http),
        "kind": "report",
        "title": "Residents' meeting",
        "body": "The minutes are attached.",
        "document_name": name,
        "action": "publish",
    }
    files = {"document": (filename, data, claimed)}
    return await net.http.post(f"{TEST_URL}/write", data=form, files=files)


async def test_a_report_with_a_pdf_federates_it_as_a_named_document(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    # The browser claims it is a PNG; the bytes say PDF, and the bytes win
    response = await _write(network, PDF, "minutes.pdf", "image/png")
    assert response.status_code == 303, response.text
    post_url = TEST_URL + response.headers["location"]
    article = (await network.http.get(post_url, headers=AP)).json()
    (document,) = article["attachment"]
    assert document["type"] == "Document"
    assert document["mediaType"] == "application/pdf"
    assert document["name"] == "Minutes of May"
    served = await network.http.get(document["url"])
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert 'filename="Minutes-of-May.pdf"' in served.headers["content-disposition"]
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    page = await network.http.get(post_url)
    assert f'href="{document["url"]}"' in page.text.replace(TEST_URL, TEST_URL)
    assert "Minutes of May" in page.text


async def test_an_odt_is_recognised_by_its_mimetype_entry(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    response = await _write(network, odt(), "minutes.odt", "application/octet-stream")
    assert response.status_code == 303, response.text
    article = (await network.http.get(TEST_URL + response.headers["location"], headers=AP)).json()
    assert article["attachment"][0]["mediaType"] == ODT_TYPE


async def test_a_file_that_only_claims_to_be_a_document_is_refused(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    fakes = [
        (b"<html><script>alert(1)</script></html>", "minutes.pdf", "application/pdf"),
        (odt("text/html"), "minutes.odt", ODT_TYPE),  # a zip, but not an ODF text
        (b"PK\x03\x04 not really a zip", "minutes.odt", ODT_TYPE),
    ]
    for data, filename, claimed in fakes:
        refused = await _write(network, data, filename, claimed)
        assert refused.status_code == 400, filename
        assert "PDF or ODT" in refused.text
    assert await network.node.store.recent_posts() == []


async def test_a_document_over_the_size_cap_is_refused(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    big = PDF + b"0" * documents.MAX_DOCUMENT_BYTES
    refused = await _write(network, big, "big.pdf", "application/pdf")
    assert refused.status_code in (400, 413)
    assert await network.node.store.recent_posts() == []


async def test_a_document_name_is_inert_on_the_page(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    vector = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
    response = await _write(network, PDF, "x.pdf", "application/pdf", name=vector)
    assert response.status_code == 303
    page = await network.http.get(TEST_URL + response.headers["location"])
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
