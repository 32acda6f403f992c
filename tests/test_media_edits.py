"""productMediaUpdate and productMediaDelete: an image's place and alt text,
and its files removed only after the removal commits."""

import pytest

pytestmark = pytest.mark.django_db


class TestMediaUpdateAndDelete:
    UPDATE = """mutation($id: ID!, $alt: String, $position: Int) {
      productMediaUpdate(id: $id, alt: $alt, position: $position) {
        media { alt } product { thumbnail { alt } media { alt } } errors { field code } } }"""
    DELETE = """mutation($id: ID!) {
      productMediaDelete(id: $id) { product { media { alt } } errors { field code } } }"""

    def images(self):
        from tests.factories import make_media, make_product

        product = make_product(slug="lamp")
        return product, [make_media(product=product, alt=alt, sort_order=i, with_thumbnail=True)
                         for i, alt in enumerate(["front", "side", "back"])]

    def test_reorder_and_rename(self, staff_client):
        from strawberry.relay import to_base64

        _, (front, side, back) = self.images()
        data = staff_client.execute(
            self.UPDATE, {"id": to_base64("ProductMedia", back.pk), "position": 0, "alt": "rear"}
        )["productMediaUpdate"]
        assert data["errors"] == []
        assert data["product"]["thumbnail"] == {"alt": "rear"}
        assert [m["alt"] for m in data["product"]["media"]] == ["rear", "front", "side"]
        refused = staff_client.execute(
            self.UPDATE, {"id": to_base64("ProductMedia", side.pk), "position": -1}
        )["productMediaUpdate"]
        assert refused["errors"] == [{"field": "position", "code": "INVALID"}]

    def test_delete_removes_the_files_after_commit(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        from strawberry.relay import to_base64

        from apps.catalog.models import ProductMedia

        _, (front, side, back) = self.images()
        storage, names = front.image.storage, [front.image.name, front.thumbnail.name]
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            data = staff_client.execute(self.DELETE, {"id": to_base64("ProductMedia", front.pk)})
        assert data["productMediaDelete"] == {
            "product": {"media": [{"alt": "side"}, {"alt": "back"}]}, "errors": []
        }
        assert not ProductMedia.objects.filter(pk=front.pk).exists()
        assert all(storage.exists(name) for name in names)  # not before the commit
        for callback in callbacks:
            callback()
        assert not any(storage.exists(name) for name in names)

    def test_unknown_ids_and_permissions(self, client, customer_client, staff_client):
        from strawberry.relay import to_base64

        from tests.conftest import error_codes

        _, (front, *_rest) = self.images()
        media_id = to_base64("ProductMedia", front.pk)
        assert error_codes(client.post(self.DELETE, {"id": media_id})) == ["UNAUTHENTICATED"]
        assert error_codes(customer_client.post(self.DELETE, {"id": media_id})) == ["FORBIDDEN"]
        missing = staff_client.execute(self.DELETE, {"id": to_base64("ProductMedia", 10**9)})
        assert missing["productMediaDelete"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]


def test_position_is_the_place_productMediaUpdate_takes(staff_client):
    """`position` reads back what productMediaUpdate(position:) set, and stays
    0, 1, 2... after an image is removed; `sortOrder` is its deprecated twin."""
    from strawberry.relay import to_base64

    from apps.catalog import services
    from tests.factories import make_media, make_product

    product = make_product(slug="lamp")
    front, side, back = (make_media(product=product, alt=alt, sort_order=i)
                         for i, alt in enumerate(["front", "side", "back"]))
    services.media_delete(actor=None, media=front)
    query = """query($id: ID!) { node(id: $id) { ... on ProductMedia { alt position sortOrder } } }"""
    read = [staff_client.execute(query, {"id": to_base64("ProductMedia", m.pk)})["node"]
            for m in (side, back)]
    assert read == [{"alt": "side", "position": 0, "sortOrder": 0},
                    {"alt": "back", "position": 1, "sortOrder": 1}]
