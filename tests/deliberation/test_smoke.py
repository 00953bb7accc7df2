from django.urls import reverse


def test_observer_reads_a_published_version(client, published):
    response = client.get(reverse("deliberation:version", args=["osd", "0.0.9"]))
    assert response.status_code == 200
    assert b"Training code" in response.content
