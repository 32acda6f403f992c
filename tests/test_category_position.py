"""Categories keep the order staff give them among their siblings."""

import pytest

pytestmark = pytest.mark.django_db


class TestCategoryPosition:
    CREATE = """mutation($input: CategoryInput!) {
      categoryCreate(input: $input) { category { id slug } errors { field code } } }"""
    UPDATE = """mutation($id: ID!, $input: CategoryInput!) {
      categoryUpdate(id: $id, input: $input) { category { slug } errors { field code } } }"""
    TREE = "{ categories(first: 100) { edges { node { slug parent { id } } } } }"

    @pytest.fixture(autouse=True)
    def _committing(self, django_capture_on_commit_callbacks):
        self.committing = lambda: django_capture_on_commit_callbacks(execute=True)

    def write(self, staff_client, document, variables):
        """A write committed, as a request's is: the response cache hears of it."""
        with self.committing():
            return staff_client.execute(document, variables)

    def create(self, staff_client, name, **extra):
        data = self.write(staff_client, self.CREATE, {"input": {"name": name, **extra}})
        assert data["categoryCreate"]["errors"] == []
        return data["categoryCreate"]["category"]["id"]

    def roots(self, client):
        edges = client.execute(self.TREE)["categories"]["edges"]
        return [e["node"]["slug"] for e in edges if e["node"]["parent"] is None]

    def test_siblings_keep_the_order_staff_give_them(self, staff_client):
        a = self.create(staff_client, "A")
        self.create(staff_client, "B")
        c = self.create(staff_client, "C")
        assert self.roots(staff_client) == ["a", "b", "c"]
        self.write(staff_client, self.UPDATE, {"id": c, "input": {"position": 0}})
        assert self.roots(staff_client) == ["c", "a", "b"]
        self.create(staff_client, "D", position=1)
        assert self.roots(staff_client) == ["c", "d", "a", "b"]
        self.write(staff_client, self.UPDATE, {"id": a, "input": {"position": 99}})
        assert self.roots(staff_client) == ["c", "d", "b", "a"]

    def test_moving_under_a_parent_at_a_position(self, staff_client):
        parent = self.create(staff_client, "Fragrance")
        self.create(staff_client, "Perfume", parentId=parent)
        self.create(staff_client, "Candles", parentId=parent)
        soap = self.create(staff_client, "Soap")
        self.write(staff_client, self.UPDATE,
                   {"id": soap, "input": {"parentId": parent, "position": 1}})
        edges = staff_client.execute(self.TREE)["categories"]["edges"]
        assert [e["node"]["slug"] for e in edges] == ["fragrance", "perfume", "soap", "candles"]

    def test_a_negative_position_is_invalid(self, staff_client):
        result = staff_client.execute(self.CREATE, {"input": {"name": "X", "position": -1}})
        assert result["categoryCreate"]["errors"] == [{"field": "position", "code": "INVALID"}]
