"""The log's checkpoints page as an observer reads it on a phone: every checkpoint, its witness, nothing off-screen."""

import time

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from audit import tlog
from plenary_tally import checkpoints
from tests.votes.conftest import ballot, cast, choice, grant, scheduled, voted  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_checkpoints_page_with_a_witness_fits_a_phone(page: Page, voted):  # noqa: F811
    checkpoint = tlog.current("ballot:osd/components")
    witness = checkpoints.Cosigner(checkpoints.generate_cosigner("witness.example.net/a-rather-long-witness-name"))
    line = witness.cosign(checkpoint.note, int(time.time()))
    tlog.add_cosignature(stream=checkpoint.stream, note=checkpoint.note, line=line, witness_key=witness.verifier_key)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(reverse("audit:checkpoints"))

    expect(page.locator("h1")).to_have_text("Signed checkpoints")
    expect(page.locator(".cosignatures")).to_contain_text("witness.example.net/a-rather-long-witness-name")
    expect(page.locator("#log-key-value")).to_have_text(tlog.log_key())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
