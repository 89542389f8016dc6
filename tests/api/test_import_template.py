"""Step 2: the import template, by query and by URL."""

from __future__ import annotations

import codecs
import io

import httpx
import pytest

from domain.imports.invalid_file import InvalidFileError, InvalidFileReason
from domain.imports.reading import open_csv
from tests.support import AUDITOR, ThreadedServer, token

TEMPLATE = "{ importTemplate { filename contentType columns content url } }"


def test_the_template_lists_the_columns_in_order(server: ThreadedServer) -> None:
    template = server.api.data(TEMPLATE, as_=token(AUDITOR))["importTemplate"]

    assert template["columns"] == ["first_name", "last_name", "email", "username"]
    assert template["filename"].endswith(".csv")
    assert template["contentType"] == "text/csv; charset=utf-8"


def test_the_url_serves_the_same_file_as_the_query(server: ThreadedServer) -> None:
    template = server.api.data(TEMPLATE, as_=token(AUDITOR))["importTemplate"]

    response = httpx.get(server.base_url + template["url"])

    assert response.status_code == 200
    assert response.content == template["content"].encode("utf-8")
    assert template["filename"] in response.headers["content-disposition"]


def test_the_template_is_utf8_with_bom_and_crlf_without_example_rows(
    server: ThreadedServer,
) -> None:
    content = httpx.get(server.base_url + "/imports/template.csv").content

    assert content.startswith(codecs.BOM_UTF8)
    assert content == codecs.BOM_UTF8 + b"first_name,last_name,email,username\r\n"


def test_the_unfilled_template_is_read_back_as_an_empty_file(server: ThreadedServer) -> None:
    content = httpx.get(server.base_url + "/imports/template.csv").content

    with pytest.raises(InvalidFileError) as refused:
        open_csv(io.BytesIO(content))

    assert refused.value.reason == InvalidFileReason.EMPTY
