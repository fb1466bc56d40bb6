"""The personal-data guard end to end: the HTML form, the JSON API, then the moderation queue."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from speakout.discussion.models import Reply
from speakout.safety.models import ReplyAssessment, SafetySettings
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db

PHONE_BODY = "The landlord's mobile is 07700 900123, call him and tell him what you think."


def test_the_form_warns_first_and_keeps_the_text(client, thread, rules, safety):
    response = client.post("/discussion/post/", form_data(thread, body=PHONE_BODY))

    assert response.status_code == 400
    html = response.content.decode()
    assert "“07700 900123” looks like a phone number — people here may be put at risk" in html
    assert 'id="id_body-error"' in html  # the message belongs to the reply field
    assert "The landlord&#x27;s mobile is 07700 900123" in html  # the text is still in the form
    assert 'name="confirm" value="personal_data"' in html
    assert Reply.objects.count() == 0


def test_posting_anyway_holds_the_reply_with_the_reason(client, thread, rules, safety):
    response = client.post("/discussion/post/", form_data(thread, body=PHONE_BODY, confirm="personal_data"))

    assert response.status_code == 303
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING
    assert reply.moderation_reason == "Posted anyway with personal data: a phone number in the reply."
    assert reply.safety_assessment.personal_data == [{"field": "body", "kind": "phone"}]


def test_author_fields_and_protected_names_are_checked(client, thread, rules, safety):
    response = client.post("/discussion/post/", form_data(thread, name="maria jose FERNANDEZ", body="I saw it happen."))
    html = response.content.decode()
    assert response.status_code == 400
    assert "It names someone this site protects" in html and 'id="id_name-error"' in html

    response = client.post(
        "/discussion/post/", form_data(thread, website="https://example.org/", body="Email sam at example dot org.")
    )
    assert response.status_code == 400
    assert "looks like an email address" in response.content.decode()


def test_a_clean_reply_and_a_switched_off_guard_publish_at_once(client, thread, rules, safety):
    assert client.post("/discussion/post/", form_data(thread, body="In 2019 rents rose 12%.")).status_code == 303
    cache.clear()  # the rate limit
    safety.personal_data_guard = False
    safety.save()
    assert client.post("/discussion/post/", form_data(thread, body=PHONE_BODY)).status_code == 303
    assert list(Reply.objects.values_list("status", flat=True)) == [Reply.Status.APPROVED] * 2


def test_the_enhanced_form_gets_the_warning_as_json(client, thread, rules, safety):
    response = client.post("/discussion/post/", form_data(thread, body=PHONE_BODY), HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    data = response.json()
    assert "looks like a phone number" in data["errors"]["body"][0]
    assert set(data["confirm"]) == {"personal_data"}


def api_post(client, thread, **fields):
    from tests.discussion.helpers import old_form_token as form_token

    body = {"name": "Ana", "email": "ana@example.org", "form_token": form_token(thread.key), **fields}
    return client.post(f"/api/threads/{thread.key}/replies", json.dumps(body), content_type="application/json")


def test_the_api_answers_with_a_code_and_a_confirmation_flag(client, thread, rules, safety):
    response = api_post(client, thread, body="Write to her: ana.lopez@correo.es")

    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "personal_data"
    assert "looks like an email address" in data["errors"]["body"][0]
    assert "personal_data" in data["confirm"] and data["form_token"]

    response = api_post(client, thread, body="Write to her: ana.lopez@correo.es", confirm=["personal_data"])
    assert response.status_code == 201
    assert response.json()["outcome"] == "held"
    assert Reply.objects.get().status == Reply.Status.PENDING


def test_the_warning_is_in_spanish_for_spanish_readers(client, thread, rules, safety):
    response = client.post(
        "/discussion/post/", form_data(thread, body="Vive en la calle Mayor 5, 3º izq."), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    assert "parece una dirección" in response.content.decode()


def test_moderators_see_why_in_the_queue_and_can_edit_the_names(client, admin_client, thread, rules, safety):
    client.post("/discussion/post/", form_data(thread, body=PHONE_BODY, confirm="personal_data"))

    html = admin_client.get(reverse("speakout_moderation:queue", args=["pending"])).content.decode()
    assert "Posted anyway with personal data: a phone number in the reply." in html
    assert "Personal data:" in html

    url = reverse("speakout_moderation:safety")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "personal_data_guard": "on",
            "protected_names": "Lucía Ortega",
            "spam_filter": "on",
            "spam_hold_score": 70,
            "spam_score": 97,
            "pile_on_replies": 10,
            "pile_on_minutes": 30,
        },
    )
    assert response.status_code == 302
    assert SafetySettings.load().protected_name_list == ["Lucía Ortega"]
    cache.clear()  # the rate limit
    response = client.post("/discussion/post/", form_data(thread, body="lucia ortega lo vio."))
    assert response.status_code == 400
    assert ReplyAssessment.objects.count() == 1
