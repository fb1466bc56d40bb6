import time
import uuid

import pytest

from speakout.contact.models import ContactPage
from speakout.contact.services import form_key
from speakout.discussion.forms import issue_form_token


@pytest.fixture
def contact_page(site_builder):
    page = site_builder.home.add_child(
        instance=ContactPage(
            title="Contact us",
            slug=f"contact-{uuid.uuid4().hex[:6]}",
            intro="<p>Write to us.</p>",
            topics="Press\nSupport",
            recipients="team@org.example\nboard@org.example",
            thank_you="<p>Thanks, we got it.</p>",
        )
    )
    page.save_revision().publish()
    return page


@pytest.fixture
def post_data(contact_page):
    """Make a valid POST body, with a time-trap token issued ten seconds ago."""

    def make(**changes):
        data = {
            "name": "Ada",
            "email": "ada@example.net",
            "topic": "Press",
            "message": "Hello, we would like to talk about your report.",
            "form_token": issue_form_token(form_key(contact_page), time.time() - 10),
            "homepage": "",
        }
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}

    return make
