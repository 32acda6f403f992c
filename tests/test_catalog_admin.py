"""Admin catalog writes: categories, products, variants, media; through the
services and through /graphql/."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from strawberry import relay

from apps.accounts.permissions import Perm
from apps.catalog import services
from apps.catalog.models import Category, Product, ProductMedia, ProductVariant
from apps.core.errors import ErrorCode, ServiceError
from apps.inventory.models import Stock, StockMovement
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user


def gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


MISSING = 987_654_321  # no row has this primary key


def refused(call, **kwargs) -> list[tuple[str | None, str]]:
    """(field, code) of each reason a service refused the write."""
    with pytest.raises(ServiceError) as info:
        call(actor=None, **kwargs)
    return [(e.field, e.code) for e in info.value.errors]


def variant(sku: str, **extra) -> dict:
    return {"sku": sku, "price": Decimal("10.00"), "stock": 3, **extra}


def product(name: str = "Rose oil", **extra) -> Product:
    extra.setdefault("variants", [variant(f"{name[:3].upper()}-{Product.objects.count()}")])
    return services.product_create(actor=None, name=name, **extra)


# --- Categories ----------------------------------------------------------------------


def test_category_create_makes_unique_slugs_under_a_parent(db):
    oils = services.category_create(actor=None, name="Oils")
    again = services.category_create(actor=None, name="Oils", parent=oils)
    assert (oils.slug, again.slug) == ("oils", "oils-2")
    assert Category.objects.get_parent(again, update=True) == oils
    assert Category.objects.get(pk=oils.pk).numchild == 1


def test_category_create_refuses_blank_name_and_taken_slug(db):
    services.category_create(actor=None, name="Oils", slug="oils")
    assert refused(services.category_create, name=" ", slug="oils") == [
        ("name", ErrorCode.REQUIRED), ("slug", ErrorCode.UNIQUE)]
    assert refused(services.category_create, name="X", slug="no spaces") == [
        ("slug", ErrorCode.INVALID)]


def test_category_update_moves_the_subtree_and_refuses_cycles(db):
    a = services.category_create(actor=None, name="A")
    b = services.category_create(actor=None, name="B", parent=a)
    c = services.category_create(actor=None, name="C", parent=b)
    other = services.category_create(actor=None, name="Other")

    services.category_update(actor=None, category=b, parent=other, name="B2")
    b.refresh_from_db()
    c.refresh_from_db()
    assert b.name == "B2" and Category.objects.get_parent(b, update=True) == other
    assert Category.objects.get_parent(c, update=True) == b and c.depth == 3 and c.path.startswith(other.path)

    for bad in (b, c):
        assert refused(services.category_update, category=b, parent=bad) == [
            ("parent_id", ErrorCode.INVALID)]

    services.category_update(actor=None, category=b, parent=None)
    b.refresh_from_db()
    assert b.is_root() and Category.objects.get(pk=other.pk).numchild == 0


def test_category_delete_refuses_while_its_subtree_sells_something(db):
    top = services.category_create(actor=None, name="Top")
    child = services.category_create(actor=None, name="Child", parent=top)
    item = product(category=child)
    assert refused(services.category_delete, category=top) == [(None, ErrorCode.IN_USE)]

    services.product_delete(actor=None, product=item)
    services.category_delete(actor=None, category=top)
    assert not Category.objects.exists()
    item.refresh_from_db()
    assert item.category is None and item.deleted_at is not None


# --- Products --------------------------------------------------------------------------


def test_product_create_writes_variants_and_initial_stock(db, staff):
    made = services.product_create(
        actor=staff, name="Rose Oil", description='<p onclick="x()">Hi<script>bad()</script></p>'
        '<a href="javascript:alert(1)">a</a><img src=x>',
        is_published=True, attributes=[{"name": "Notes", "values": ["rose", " oud "]}],
        variants=[variant("R-1", stock=7, options=[{"name": "Size", "value": "50 ml"}]),
                  variant("R-2", stock=0, low_stock_threshold=2)],
    )
    assert made.slug == "rose-oil" and made.published_at is not None
    assert made.description == '<p>Hi</p><a rel="noopener noreferrer">a</a>'
    assert made.attributes == {"Notes": ["rose", "oud"]}
    r1, r2 = made.variants.all()
    assert (r1.sku, r1.sort_order, r1.options) == ("R-1", 0, [{"name": "Size", "value": "50 ml"}])
    assert (r2.low_stock_threshold, r1.low_stock_threshold) == (2, 5)
    assert {s.variant_id: s.quantity_on_hand for s in Stock.objects.all()} == {r1.pk: 7, r2.pk: 0}
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity_delta, movement.actor) == ("initial", 7, staff)
    assert services.product_create(actor=None, name="Rose oil").slug == "rose-oil-2"


def test_product_create_writes_nothing_when_a_later_variant_is_bad(db):
    product(variants=[variant("TAKEN")])
    before = (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count())
    problems = refused(
        services.product_create, name="New", slug=Product.objects.get().slug,
        variants=[variant("OK-1"), variant("TAKEN", price=Decimal("-1"), stock=-2),
                  variant("OK-1", compare_at_price=Decimal("1.234"))],
    )
    assert problems == [
        ("slug", ErrorCode.UNIQUE),
        ("variants.1.sku", ErrorCode.UNIQUE), ("variants.1.price", ErrorCode.INVALID),
        ("variants.1.stock", ErrorCode.INVALID), ("variants.2.compare_at_price", ErrorCode.INVALID),
        ("variants.2.sku", ErrorCode.UNIQUE),
    ]
    after = (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count())
    assert before == after == (1, 1, 1)


def test_product_create_rolls_back_a_failure_after_the_first_rows(db, monkeypatch):
    """Even a failure past validation (here the second variant's stock) leaves nothing."""
    from apps.inventory import services as inventory

    real = inventory.stock_set_initial
    calls = []

    def fail_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise ServiceError("boom", field="stock")
        return real(**kwargs)

    monkeypatch.setattr("apps.catalog.services.variants.stock_set_initial", fail_second)
    with pytest.raises(ServiceError):
        services.product_create(actor=None, name="P", variants=[variant("A"), variant("B")])
    assert (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count(),
            StockMovement.objects.count()) == (0, 0, 0, 0)


def test_product_update_publishes_once_and_checks_fields(db):
    item = product(name="Plain")
    other = product(name="Other")
    assert item.published_at is None
    services.product_update(actor=None, product=item, is_published=True, name="Fancy")
    first = item.published_at
    assert first is not None
    services.product_update(actor=None, product=item, is_published=False)
    services.product_update(actor=None, product=item, is_published=True)
    assert item.published_at == first and item.slug == "plain"
    assert refused(services.product_update, product=item, slug=other.slug, name="") == [
        ("name", ErrorCode.REQUIRED), ("slug", ErrorCode.UNIQUE)]
    assert refused(services.product_update, product=item, slug=None) == [
        ("slug", ErrorCode.REQUIRED)]
    with pytest.raises(TypeError):
        services.product_update(actor=None, product=item, variants=[])


def test_product_delete_is_soft_and_bulk_counts_live_ones(db):
    a, b, c = product(name="A"), product(name="B"), product(name="C")
    services.product_delete(actor=None, product=a)
    a.refresh_from_db()
    assert a.deleted_at is not None and not Product.objects.live().filter(pk=a.pk).exists()
    assert refused(services.product_delete, product=a) == [(None, ErrorCode.NOT_FOUND)]
    assert services.products_bulk_delete(actor=None, products=[a, b, c]) == 2
    assert Product.objects.live().count() == 0 and Product.objects.count() == 3


def test_variant_create_and_update(db):
    item = product(name="Soap", variants=[variant("S-1")])
    made = services.variant_create(actor=None, product=item, sku=" S-2 ", price=Decimal("4.5"),
                                   stock=9, weight_grams=120)
    assert (made.sku, made.sort_order, made.price, made.stocks.get().quantity_on_hand) == (
        "S-2", 1, Decimal("4.5"), 9)
    assert refused(services.variant_create, product=item, sku="S-1", price=Decimal(1)) == [
        ("sku", ErrorCode.UNIQUE)]

    services.variant_update(actor=None, variant=made, price=Decimal("5.25"), name="Big",
                            compare_at_price=None)
    made.refresh_from_db()
    assert (made.price, made.name, made.stocks.get().quantity_on_hand) == (Decimal("5.25"), "Big", 9)
    assert refused(services.variant_update, variant=made, sku="S-1", price=Decimal(-1)) == [
        ("sku", ErrorCode.UNIQUE), ("price", ErrorCode.INVALID)]
    with pytest.raises(TypeError):
        services.variant_update(actor=None, variant=made, stock=100)


# --- Media ---------------------------------------------------------------------------------


def image_bytes(fmt: str, size=(900, 600), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"),
                                      ("GIF", "gif")])
def test_media_create_stores_the_real_format_and_a_thumbnail(db, fmt, ext):
    item = product()
    upload = SimpleUploadedFile("holiday.txt", image_bytes(fmt), content_type="text/plain")
    first = services.media_create(actor=None, product=item, image=upload, alt="Front")
    second = services.media_create(
        actor=None, product=item, image=SimpleUploadedFile("b.png", image_bytes("PNG")))
    assert first.image.name.endswith(f".{ext}") and "holiday" not in first.image.name
    assert (first.sort_order, second.sort_order, first.alt) == (0, 1, "Front")
    with Image.open(first.image) as stored:
        assert stored.format == fmt
    with Image.open(first.thumbnail) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (400, 267)


@pytest.mark.parametrize("content", [
    b"%PDF-1.4 not an image",
    image_bytes("BMP"),
    image_bytes("TIFF"),
    image_bytes("PNG")[:60],  # truncated
    b"",
])
def test_media_create_refuses_what_is_not_an_accepted_image(db, content):
    item = product()
    upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
    assert refused(services.media_create, product=item, image=upload) == [
        ("image", ErrorCode.INVALID)]
    assert not ProductMedia.objects.exists()


def test_media_create_refuses_a_file_over_the_limit(db, settings):
    settings.UPLOAD_MAX_SIZE = 1000
    upload = SimpleUploadedFile("big.png", image_bytes("PNG", size=(400, 400), mode="RGB")
                                + b"\0" * 1000)
    assert refused(services.media_create, product=product(), image=upload) == [
        ("image", ErrorCode.INVALID)]


# --- GraphQL -----------------------------------------------------------------------------------

ERRORS = "errors { field message code }"

CATEGORY_CREATE = f"""mutation($input: CategoryInput!) {{
  categoryCreate(input: $input) {{ category {{ id name slug parent {{ id }} }} {ERRORS} }} }}"""
CATEGORY_UPDATE = f"""mutation($id: ID!, $input: CategoryInput!) {{
  categoryUpdate(id: $id, input: $input) {{ category {{ id name slug }} {ERRORS} }} }}"""
CATEGORY_DELETE = f"""mutation($id: ID!) {{ categoryDelete(id: $id) {{ {ERRORS} }} }}"""
PRODUCT_CREATE = f"""mutation($input: ProductCreateInput!) {{
  productCreate(input: $input) {{
    product {{ id slug isPublished variants {{ id sku quantityAvailable }} }} {ERRORS} }} }}"""
PRODUCT_UPDATE = f"""mutation($id: ID!, $input: ProductUpdateInput!) {{
  productUpdate(id: $id, input: $input) {{ product {{ id name slug isPublished }} {ERRORS} }} }}"""
PRODUCT_DELETE = f"""mutation($id: ID!) {{ productDelete(id: $id) {{ {ERRORS} }} }}"""
PRODUCT_BULK_DELETE = f"""mutation($ids: [ID!]!) {{
  productBulkDelete(ids: $ids) {{ count {ERRORS} }} }}"""
VARIANT_CREATE = f"""mutation($productId: ID!, $input: ProductVariantInput!) {{
  productVariantCreate(productId: $productId, input: $input) {{
    variant {{ id sku price {{ amount currency }} }} {ERRORS} }} }}"""
VARIANT_UPDATE = f"""mutation($id: ID!, $input: ProductVariantUpdateInput!) {{
  productVariantUpdate(id: $id, input: $input) {{
    variant {{ id sku price {{ amount currency }} }} {ERRORS} }} }}"""
MEDIA_CREATE = f"""mutation($productId: ID!, $image: Upload!, $alt: String) {{
  productMediaCreate(productId: $productId, image: $image, alt: $alt) {{
    media {{ id url alt }} {ERRORS} }} }}"""
STOCK_ADJUST = f"""mutation($variantId: ID!, $delta: Int!, $reason: String!, $warehouseId: ID) {{
  stockAdjust(variantId: $variantId, delta: $delta, reason: $reason, warehouseId: $warehouseId) {{
    variant {{ id sku quantityAvailable }} {ERRORS} }} }}"""
LOW_STOCK = """query($first: Int!, $after: String) {
  lowStockVariants(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id sku quantityAvailable lowStockThreshold product { id name } } } } }"""

# Each admin operation, with variables naming real rows (product p, its variant v).
GUARDED = {
    "categoryCreate": (CATEGORY_CREATE, lambda p, v, c: {"input": {"name": "X"}}),
    "categoryUpdate": (CATEGORY_UPDATE, lambda p, v, c: {"id": c, "input": {"name": "X"}}),
    "categoryDelete": (CATEGORY_DELETE, lambda p, v, c: {"id": c}),
    "productCreate": (PRODUCT_CREATE, lambda p, v, c: {"input": {"name": "X"}}),
    "productUpdate": (PRODUCT_UPDATE, lambda p, v, c: {"id": p, "input": {"name": "X"}}),
    "productDelete": (PRODUCT_DELETE, lambda p, v, c: {"id": p}),
    "productBulkDelete": (PRODUCT_BULK_DELETE, lambda p, v, c: {"ids": [p]}),
    "productVariantCreate": (VARIANT_CREATE, lambda p, v, c: {
        "productId": p, "input": {"sku": "X", "price": "1"}}),
    "productVariantUpdate": (VARIANT_UPDATE, lambda p, v, c: {"id": v, "input": {"price": "1"}}),
    "stockAdjust": (STOCK_ADJUST, lambda p, v, c: {"variantId": v, "delta": 1, "reason": "x"}),
    "lowStockVariants": (LOW_STOCK, lambda p, v, c: {"first": 5}),
}


@pytest.mark.parametrize("name", sorted(GUARDED))
@pytest.mark.parametrize("who, code", [("anonymous", "UNAUTHENTICATED"),
                                       ("customer", "FORBIDDEN"),
                                       ("other staff", "FORBIDDEN")])
def test_admin_catalog_needs_manage_products(db, name, who, code):
    clients = {
        "anonymous": lambda: Client(),
        "customer": lambda: client_for(make_user()),
        "other staff": lambda: client_for(make_user(perms=[Perm.MANAGE_ORDERS])),
    }
    query, variables = GUARDED[name]
    category = services.category_create(actor=None, name="Kept")
    item = product(name="Untouched", category=category)
    variables = variables(gid("Product", item.pk), gid("ProductVariant", item.variants.get().pk),
                          gid("Category", category.pk))
    before = list(Stock.objects.values_list("quantity_on_hand", flat=True))
    result = clients[who]().post(query, variables)
    assert error_codes(result) == [code]
    assert result["data"] is None
    item = Product.objects.get()
    assert (item.name, item.deleted_at, item.variants.get().price) == ("Untouched", None,
                                                                      Decimal("10.00"))
    assert list(Category.objects.values_list("name", flat=True)) == ["Kept"]
    assert list(Stock.objects.values_list("quantity_on_hand", flat=True)) == before


def test_media_upload_needs_manage_products(db, customer_client):
    item = product()
    response = upload(customer_client, gid("Product", item.pk), image_bytes("PNG"))
    assert error_codes(response.json()) == ["FORBIDDEN"]
    assert not ProductMedia.objects.exists()


@pytest.mark.parametrize("query, variables, field", [
    (CATEGORY_UPDATE, {"id": gid("Category", MISSING), "input": {"name": "X"}}, "id"),
    (CATEGORY_DELETE, {"id": "not-a-global-id"}, "id"),
    (CATEGORY_CREATE, {"input": {"name": "X", "parentId": gid("Product", 1)}}, "parentId"),
    (PRODUCT_CREATE, {"input": {"name": "X", "categoryId": gid("Category", MISSING)}}, "categoryId"),
    (PRODUCT_UPDATE, {"id": gid("Product", MISSING), "input": {"name": "X"}}, "id"),
    (PRODUCT_DELETE, {"id": gid("ProductVariant", 1)}, "id"),
    (PRODUCT_BULK_DELETE, {"ids": ["EXISTING", gid("Product", MISSING)]}, "ids.1"),
    (VARIANT_CREATE, {"productId": gid("Product", MISSING), "input": {"sku": "X", "price": "1"}},
     "productId"),
    (VARIANT_UPDATE, {"id": gid("ProductVariant", MISSING), "input": {}}, "id"),
    (STOCK_ADJUST, {"variantId": gid("ProductVariant", MISSING), "delta": 1, "reason": "x"},
     "variantId"),
])
def test_unknown_ids_are_payload_not_found(db, staff_client, query, variables, field):
    existing = gid("Product", product().pk)
    if "ids" in variables:
        variables = {"ids": [existing if i == "EXISTING" else i for i in variables["ids"]]}
    data = staff_client.execute(query, variables)
    (payload,) = data.values()
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, "NOT_FOUND")]
    assert Product.objects.live().count() == 1


def test_category_mutations(db, staff_client):
    top = staff_client.execute(CATEGORY_CREATE, {"input": {"name": "Perfume"}})
    top = top["categoryCreate"]["category"]
    assert (top["slug"], top["parent"]) == ("perfume", None)
    child = staff_client.execute(CATEGORY_CREATE, {"input": {
        "name": "Men's", "slug": "mens", "description": "<b>x</b>", "parentId": top["id"]}})
    child = child["categoryCreate"]["category"]
    assert child["parent"] == {"id": top["id"]} and child["slug"] == "mens"

    cycle = staff_client.execute(CATEGORY_UPDATE, {"id": top["id"],
                                                   "input": {"parentId": child["id"]}})
    assert cycle["categoryUpdate"] == {"category": None, "errors": [
        {"field": "parentId", "code": "INVALID", "message": cycle["categoryUpdate"]["errors"][0]
         ["message"]}]}
    moved = staff_client.execute(CATEGORY_UPDATE, {"id": child["id"],
                                                   "input": {"parentId": None, "name": "Men"}})
    assert moved["categoryUpdate"]["category"]["name"] == "Men"
    assert Category.objects.get(slug="mens").is_root()

    item = product(category=Category.objects.get(slug="mens"))
    in_use = staff_client.execute(CATEGORY_DELETE, {"id": child["id"]})["categoryDelete"]
    assert [e["code"] for e in in_use["errors"]] == ["IN_USE"]
    services.product_update(actor=None, product=item, category=None)
    assert staff_client.execute(CATEGORY_DELETE, {"id": child["id"]}) == {
        "categoryDelete": {"errors": []}}
    assert list(Category.objects.values_list("slug", flat=True)) == ["perfume"]


def test_product_create_through_graphql(db, staff_client):
    category = services.category_create(actor=None, name="Soap")
    data = staff_client.execute(PRODUCT_CREATE, {"input": {
        "name": "Olive Soap", "categoryId": gid("Category", category.pk), "isPublished": True,
        "description": "<p>Mild</p>", "seoTitle": "Olive", "attributes": [
            {"name": "Scent", "values": ["none"]}],
        "variants": [{"sku": "OS-1", "price": "3.50", "stock": 4,
                      "options": [{"name": "Size", "value": "100 g"}]},
                     {"sku": "OS-2", "price": "6", "compareAtPrice": "7.00"}],
    }})["productCreate"]
    assert data["errors"] == []
    assert data["product"]["slug"] == "olive-soap" and data["product"]["isPublished"] is True
    assert [(v["sku"], v["quantityAvailable"]) for v in data["product"]["variants"]] == [
        ("OS-1", 4), ("OS-2", 0)]
    made = Product.objects.get()
    assert (made.category, made.seo_title, made.attributes) == (category, "Olive",
                                                                {"Scent": ["none"]})


def test_product_create_errors_through_graphql(db, staff_client):
    product(variants=[variant("DUP")])
    data = staff_client.execute(PRODUCT_CREATE, {"input": {"name": "New", "variants": [
        {"sku": "NEW-1", "price": "1"},
        {"sku": "DUP", "price": "-1", "compareAtPrice": "-2", "stock": -1},
    ]}})["productCreate"]
    assert data["product"] is None
    assert [(e["field"], e["code"]) for e in data["errors"]] == [
        ("variants.1.sku", "UNIQUE"), ("variants.1.price", "INVALID"),
        ("variants.1.compareAtPrice", "INVALID"), ("variants.1.stock", "INVALID")]
    assert Product.objects.count() == 1 and Stock.objects.count() == 1


def test_product_update_delete_and_bulk_delete_through_graphql(
        db, staff_client, django_capture_on_commit_callbacks):
    a, b, c = product(name="A"), product(name="B"), product(name="C")
    data = staff_client.execute(PRODUCT_UPDATE, {"id": gid("Product", a.pk), "input": {
        "name": "A+", "slug": "a-plus", "isPublished": True}})["productUpdate"]
    assert data == {"product": {"id": gid("Product", a.pk), "name": "A+", "slug": "a-plus",
                                "isPublished": True}, "errors": []}
    taken = staff_client.execute(PRODUCT_UPDATE, {"id": gid("Product", b.pk),
                                                  "input": {"slug": "a-plus"}})
    assert [(e["field"], e["code"]) for e in taken["productUpdate"]["errors"]] == [
        ("slug", "UNIQUE")]

    storefront = "{ products(first: 10) { edges { node { id } } } }"
    listed = Client().execute(storefront)["products"]["edges"]
    assert [e["node"]["id"] for e in listed] == [gid("Product", a.pk)]

    # Committed, as every request's write is: the response cache hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.execute(PRODUCT_DELETE, {"id": gid("Product", a.pk)}) == {
            "productDelete": {"errors": []}}
    assert Client().execute(storefront)["products"]["edges"] == []
    a.refresh_from_db()
    assert a.deleted_at is not None
    # Deleted: gone for a second delete and for the storefront.
    again = staff_client.execute(PRODUCT_DELETE, {"id": gid("Product", a.pk)})
    assert again["productDelete"]["errors"][0]["code"] == "NOT_FOUND"
    node = Client().post("query($id: ID!) { node(id: $id) { id } }",
                         {"id": gid("Product", a.pk)})
    assert node["data"]["node"] is None

    bulk = staff_client.execute(PRODUCT_BULK_DELETE, {"ids": [gid("Product", b.pk),
                                                               gid("Product", c.pk)]})
    assert bulk == {"productBulkDelete": {"count": 2, "errors": []}}
    assert not Product.objects.live().exists()


def test_variant_mutations_through_graphql(db, staff_client):
    item = product(variants=[variant("V-1")])
    created = staff_client.execute(VARIANT_CREATE, {"productId": gid("Product", item.pk),
                                                    "input": {"sku": "V-2", "price": "12.5",
                                                              "stock": 2, "name": "Large"}})
    made = created["productVariantCreate"]
    assert made["errors"] == [] and made["variant"]["price"] == {"amount": "12.50",
                                                                  "currency": "USD"}
    new = ProductVariant.objects.get(sku="V-2")
    assert new.stocks.get().quantity_on_hand == 2

    updated = staff_client.execute(VARIANT_UPDATE, {"id": made["variant"]["id"], "input": {
        "price": "9.99", "sku": "V-2b", "lowStockThreshold": 1}})["productVariantUpdate"]
    assert updated["variant"]["sku"] == "V-2b" and updated["variant"]["price"]["amount"] == "9.99"
    bad = staff_client.execute(VARIANT_UPDATE, {"id": made["variant"]["id"], "input": {
        "price": "-1", "sku": "V-1"}})["productVariantUpdate"]
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("sku", "UNIQUE"),
                                                                ("price", "INVALID")]
    # There is no stock field on the update input: stock changes through stockAdjust only.
    no_stock = staff_client.post(VARIANT_UPDATE, {"id": made["variant"]["id"],
                                                  "input": {"stock": 5}})
    assert error_codes(no_stock) == ["BAD_USER_INPUT"]


def upload(client: Client, product_id: str, content: bytes, filename="photo.png",
           alt: str | None = "Front"):
    """A GraphQL multipart request, as apollo-upload-client sends it."""
    return client.upload(
        MEDIA_CREATE, {"productId": product_id, "image": None, "alt": alt},
        {"variables.image": (filename, content, "application/octet-stream")},
    )


def test_product_media_create_through_multipart(db, staff_client):
    item = product()
    response = upload(staff_client, gid("Product", item.pk), image_bytes("JPEG"), "x.gif")
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["productMediaCreate"]
    assert payload["errors"] == [] and payload["media"]["alt"] == "Front"
    media = ProductMedia.objects.get()
    assert payload["media"]["url"].startswith("http://testserver/media/products/")
    assert payload["media"]["url"].endswith(".jpg") and media.thumbnail.name.endswith(".webp")

    bad = upload(staff_client, gid("Product", item.pk), b"GIF89a but not really", "y.gif")
    assert [(e["field"], e["code"]) for e in bad.json()["data"]["productMediaCreate"]
            ["errors"]] == [("image", "INVALID")]
    assert ProductMedia.objects.count() == 1


def test_product_media_create_refuses_a_file_over_the_limit(db, staff_client, settings):
    settings.UPLOAD_MAX_SIZE = 5_000
    item = product()
    big = image_bytes("PNG", size=(200, 200)) + b"\0" * 5_000
    response = upload(staff_client, gid("Product", item.pk), big)
    payload = response.json()["data"]["productMediaCreate"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("image", "INVALID")]
    assert not ProductMedia.objects.exists()


# --- Django admin --------------------------------------------------------------------------------


def test_django_admin_pages_open(db, admin_client):
    from apps.inventory.models import Warehouse

    category = services.category_create(actor=None, name="Tea")
    item = product(category=category)
    services.media_create(actor=None, product=item,
                          image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    pages = ["catalog/category", "catalog/product", "catalog/productvariant",
             "catalog/productmedia", "catalog/review", "inventory/warehouse",
             "inventory/stock", "inventory/stockmovement"]
    for page in pages:
        assert admin_client.get(f"/admin/{page}/").status_code == 200, page
    for url in (f"/admin/catalog/product/{item.pk}/change/", "/admin/catalog/product/add/",
                f"/admin/catalog/category/{category.pk}/change/", "/admin/catalog/category/add/",
                f"/admin/inventory/warehouse/{Warehouse.objects.get().pk}/change/"):
        assert admin_client.get(url).status_code == 200, url
    # A category still selling something cannot be deleted from the admin either.
    assert admin_client.get(f"/admin/catalog/category/{category.pk}/delete/").status_code == 403


def test_django_admin_deletes_products_softly(db, admin_client):
    a, b = product(name="A"), product(name="B")
    response = admin_client.post("/admin/catalog/product/", {
        "action": "soft_delete", "_selected_action": [a.pk, b.pk]})
    assert response.status_code == 302
    assert Product.objects.count() == 2 and not Product.objects.live().exists()


# --- The contract document, as the admin console sends it --------------------------------------


def test_admin_catalog_document_end_to_end(db, staff_client):
    document = contract.document("admin/catalog.graphql")

    def run(name: str, variables: dict) -> dict:
        (payload,) = staff_client.execute(document, variables, operation_name=name).values()
        assert not payload.get("errors"), payload
        return payload

    top = run("CategoryCreate", {"input": {"name": "Candles"}})["category"]
    child = run("CategoryCreate", {"input": {"name": "Tapers", "parentId": top["id"]}})["category"]
    assert child["parent"] == {"id": top["id"]}
    run("CategoryUpdate", {"id": child["id"], "input": {"name": "Taper candles"}})
    made = run("ProductCreate", {"input": {
        "name": "Beeswax taper", "categoryId": child["id"], "isPublished": True,
        "variants": [{"sku": "BT-1", "price": "4.00", "stock": 2, "lowStockThreshold": 5}]}})
    product_id = made["product"]["id"]
    variant_id = made["product"]["variants"][0]["id"]
    run("ProductUpdate", {"id": product_id, "input": {"seoTitle": "Taper"}})
    extra = run("ProductVariantCreate", {"productId": product_id,
                                         "input": {"sku": "BT-2", "price": "7.5"}})["variant"]
    run("ProductVariantUpdate", {"id": extra["id"], "input": {"price": "8"}})
    assert run("StockAdjust", {"variantId": variant_id, "delta": 3, "reason": "delivery"}
               )["variant"]["quantityAvailable"] == 5
    low = staff_client.execute(document, {"first": 10}, operation_name="LowStock")
    assert [e["node"]["product"]["id"] for e in low["lowStockVariants"]["edges"]] == [
        product_id, product_id]
    listed = staff_client.execute(document, {"first": 10}, operation_name="AdminProducts")
    assert listed["products"]["edges"][0]["node"]["category"]["name"] == "Taper candles"
    assert run("ProductBulkDelete", {"ids": [product_id]})["count"] == 1
    run("CategoryDelete", {"id": top["id"]})
    assert not Category.objects.exists()
