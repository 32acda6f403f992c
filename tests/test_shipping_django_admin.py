"""Shipping zones, methods and tax rates in the Django admin: written through
the services, refused on the form as in the API."""

from decimal import Decimal

import pytest

from apps.shipping import services
from apps.shipping.models import ShippingMethod, ShippingZone
from apps.taxes.models import TaxRate

pytestmark = pytest.mark.django_db


def test_a_zone_and_its_countries(admin_client):
    response = admin_client.post("/admin/shipping/shippingzone/add/",
                                 {"name": "Europe", "countries": "fr, de BE"})
    assert response.status_code == 302, response.context["errors"]
    europe = ShippingZone.objects.get()
    assert list(europe.countries.values_list("country", flat=True)) == ["BE", "DE", "FR"]

    response = admin_client.post("/admin/shipping/shippingzone/add/",
                                 {"name": "France", "countries": "FR"})
    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["countries"]
    assert "already in the zone 'Europe'" in message
    assert ShippingZone.objects.count() == 1

    response = admin_client.post(f"/admin/shipping/shippingzone/{europe.pk}/change/",
                                 {"name": "Europe", "countries": "DE"})
    assert response.status_code == 302
    assert list(europe.countries.values_list("country", flat=True)) == ["DE"]


def test_a_method_through_the_service(admin_client):
    europe = services.shipping_zone_create(actor=None, name="Europe", countries=["FR"])
    form = {"zone": europe.pk, "name": "Standard", "price": "4.90", "free_above": "",
            "min_weight_grams": "10", "max_weight_grams": "5"}
    response = admin_client.post("/admin/shipping/shippingmethod/add/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["max_weight_grams"] == [
        "Must not be below the minimum weight."]
    response = admin_client.post("/admin/shipping/shippingmethod/add/",
                                 {**form, "max_weight_grams": "5000"})
    assert response.status_code == 302
    assert ShippingMethod.objects.get().price == Decimal("4.90")


def test_a_tax_rate_through_the_service(admin_client):
    response = admin_client.post("/admin/taxes/taxrate/add/", {
        "country": "US", "country_area": "NY", "category": "", "rate": "8.875"})
    assert response.status_code == 302, response.context["errors"]
    response = admin_client.post("/admin/taxes/taxrate/add/", {
        "country": "US", "country_area": "NY", "category": "", "rate": "4"})
    assert response.status_code == 200
    assert TaxRate.objects.get().rate == Decimal("8.875")
