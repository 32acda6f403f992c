import pytest
from django.contrib.auth.models import Group

from apps.accounts.permissions import Perm
from apps.accounts.roles import STAFF_ROLES, staff_roles_ensure
from tests.conftest import client_for, error_codes, make_user

pytestmark = pytest.mark.django_db


def test_migrate_makes_the_staff_roles():
    for name, perms in STAFF_ROLES.items():
        group = Group.objects.get(name=name)
        assert {f"accounts.{p.codename}" for p in group.permissions.all()} == {
            p.value for p in perms
        }


def test_a_role_the_shop_changed_is_left_alone():
    group = Group.objects.get(name="Marketing")
    group.permissions.clear()
    assert staff_roles_ensure() == []
    assert not group.permissions.exists()


def test_a_catalog_manager_edits_the_catalog_and_nothing_else():
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name="Catalog managers"))
    assert user.has_perm(Perm.MANAGE_PRODUCTS.value)
    assert not user.has_perm(Perm.MANAGE_ORDERS.value)
    result = client_for(user).post(
        'mutation { categoryCreate(input: {name: "Candles"}) { category { slug } errors { code } } }'
    )
    assert result["data"]["categoryCreate"] == {"category": {"slug": "candles"}, "errors": []}


def test_a_customer_in_a_role_is_still_not_staff():
    user = make_user()
    user.groups.add(Group.objects.get(name="Administrators"))
    result = client_for(user).post(
        'mutation { categoryCreate(input: {name: "Candles"}) { errors { code } } }'
    )
    assert error_codes(result) == ["FORBIDDEN"]
