"""The demo's products, drawn from the seed's random generator in a fixed
order (apps.demo.seed writes them): names, slugs and SKUs, attributes and a
description, variants with their prices and stock, images and reviews."""

import functools
import html
import itertools
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone
from django.utils.text import slugify

from apps.catalog import models
from apps.demo import words


@dataclass
class Leaf:
    category: models.Category
    family: words.Family
    # What the products are called, e.g. "Eau de Parfum" ("… Velvet Dune Eau de Parfum").
    noun: str
    # The family's key in words.FAMILIES.
    code: str


@dataclass
class ProductSpec:
    # Rows by attribute name (apps.demo.bulk writes them).
    product: dict
    variants: list[tuple[dict, int]]  # with the quantity on hand
    media: list[int]  # palette offsets, one image each
    reviews: list[tuple[int, int, str, str, bool]]  # customer index, rating, title, body, verified


def product_spec(
    rng: random.Random,
    number: int,
    leaves: list[Leaf],
    customer_count: int,
    taken_slugs: set[str],
    taken_skus: set[str],
) -> ProductSpec:
    leaf = rng.choices(leaves, cum_weights=_cumulative_weights(leaves))[0]
    brand = rng.choice(words.BRANDS)
    name = f"{brand} {rng.choice(words.WORDS_A)} {rng.choice(words.WORDS_B)} {leaf.noun}"
    slug = _unique(slugify(name), taken_slugs)
    attributes = _attributes(rng, leaf)
    is_published = rng.random() < 0.92
    product = dict(
        name=name,
        slug=slug,
        category_id=leaf.category.pk,
        description=_description(rng, name, leaf, attributes),
        attributes=attributes,
        seo_title=f"{name} | Demo Shop",
        seo_description=f"{name} by {brand}: {leaf.noun.lower()} from our "
                        f"{leaf.category.name.lower()} range.",
        is_published=is_published,
        published_at=timezone.now() if is_published else None,
    )

    base = Decimal(rng.randint(*leaf.family.price))
    on_sale = rng.random() < 0.2
    combos = _combinations(leaf.family)
    count = min(len(combos), rng.choices([1, 2, 3, 4, 5], weights=[25, 25, 25, 15, 10])[0])
    if leaf.family.step:  # sizes: consecutive, smallest first
        start = rng.randrange(len(combos) - count + 1)
        chosen = combos[start:start + count]
    else:
        chosen = sorted(rng.sample(combos, count), key=combos.index)
    variants = []
    for index, combo in enumerate(chosen):
        step = combos.index(combo) if leaf.family.step else 0
        price = _price(base * Decimal(str(1 + leaf.family.step * step)), rng)
        compare_at = (price * Decimal("1.25")).quantize(Decimal("1"), ROUND_CEILING)
        options = [{"name": n, "value": v} for (n, _), v in zip(leaf.family.options, combo)]
        variant = dict(
            sku=_unique(f"DEMO-{number:05d}-{index + 1}", taken_skus),
            name=" / ".join(combo),
            options=options,
            price=price,
            compare_at_price=compare_at if on_sale else None,
            weight_grams=rng.randint(40, 900),
            low_stock_threshold=rng.choice([3, 5, 10]),
            sort_order=index,
        )
        quantity = 0 if rng.random() < 0.08 else rng.randint(1, 120)
        variants.append((variant, quantity))

    media = [0] if rng.random() < 0.7 else [0, rng.randint(1, len(words.PALETTES) - 1)]
    reviews = []
    review_count = min(customer_count, rng.choices(range(9), weights=words.REVIEW_COUNT_WEIGHTS)[0])
    for customer in rng.sample(range(customer_count), review_count):
        rating = rng.choices([1, 2, 3, 4, 5], weights=[4, 6, 15, 35, 40])[0]
        reviews.append((customer, rating, rng.choice(words.REVIEW_TITLES[rating]),
                        rng.choice(words.REVIEW_BODIES[rating]), rng.random() < 0.6))
    return ProductSpec(product, variants, media, reviews)


def _cumulative_weights(leaves: list[Leaf]) -> list[int]:
    """The leaves' weights, accumulated as random.choices takes them when
    they are worked out once (the same draws as `weights=`): fragrance is
    what the shop is known for, it gets more products."""
    key = tuple(id(leaf) for leaf in leaves)
    if key not in _WEIGHTS:
        _WEIGHTS.clear()
        _WEIGHTS[key] = list(itertools.accumulate(
            3 if leaf.code == "fragrance" else 1 for leaf in leaves))
    return _WEIGHTS[key]


_WEIGHTS: dict[tuple[int, ...], list[int]] = {}


@functools.cache
def _combinations(family: words.Family) -> list[tuple[str, ...]]:
    return list(itertools.product(*(values for _, values in family.options)))


def _unique(candidate: str, taken: set[str]) -> str:
    value, n = candidate, 2
    while value in taken:
        value, n = f"{candidate}-{n}", n + 1
    taken.add(value)
    return value


def _price(amount: Decimal, rng: random.Random) -> Decimal:
    """A shop price: whole units ending in .00, .50, .95 or .99."""
    return amount.quantize(Decimal("1")) + rng.choice(
        [Decimal("0.00"), Decimal("0.50"), Decimal("0.95"), Decimal("0.99")]
    )


def _attributes(rng: random.Random, leaf: Leaf) -> dict[str, list[str]]:
    family = leaf.code
    if family in ("fragrance", "set"):
        return {
            "Top notes": rng.sample(words.NOTES_TOP, 2),
            "Heart notes": rng.sample(words.NOTES_HEART, 2),
            "Base notes": rng.sample(words.NOTES_BASE, rng.randint(2, 3)),
            "Accords": rng.sample(words.ACCORDS, rng.randint(2, 3)),
            "Concentration": [leaf.noun if family == "fragrance" else "Eau de Parfum"],
        }
    if family == "skincare":
        return {
            "Skin type": sorted(rng.sample(words.SKIN_TYPES, rng.randint(1, 3))),
            "Key ingredients": rng.sample(words.SKIN_INGREDIENTS, rng.randint(1, 3)),
            "Texture": [rng.choice(["gel", "cream", "lotion", "balm", "oil"])],
        }
    if family in ("complexion", "eyes", "lips"):
        return {
            "Finish": [rng.choice(words.FINISHES)],
            "Coverage": [rng.choice(["sheer", "medium", "full"])],
            "Vegan": [rng.choice(["yes", "no"])],
        }
    if family == "hair":
        return {
            "Hair type": sorted(rng.sample(words.HAIR_TYPES, rng.randint(1, 2))),
            "Key ingredients": rng.sample(words.HAIR_INGREDIENTS, rng.randint(1, 2)),
        }
    return {  # body, home
        "Accords": rng.sample(words.ACCORDS, 2),
        "Key ingredients": rng.sample(["shea butter", "essential oils", "soy wax",
                                       "sea salt", "almond oil"], 2),
    }


def _description(rng: random.Random, name: str, leaf: Leaf, attributes: dict) -> str:
    if "Top notes" in attributes:
        first = (f"{name} opens on {attributes['Top notes'][0]} and "
                 f"{attributes['Top notes'][1]}, with a heart of "
                 f"{attributes['Heart notes'][0]}, and settles on "
                 f"{' and '.join(attributes['Base notes'][:2])}.")
    else:
        first = f"{name}: a {leaf.noun.lower()} made with care, for every day."
    second = rng.choice([
        "Made in small batches and never tested on animals.",
        "Recyclable glass, refillable where we can.",
        "Dermatologically tested. Free from parabens.",
        "Our best seller since the day it launched.",
    ])
    return f"<p>{html.escape(first, quote=False)}</p><p>{second}</p>"
