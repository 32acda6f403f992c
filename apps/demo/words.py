"""What the demo shop sells: word lists, product families and image palettes,
drawn from by apps.demo.seed."""

from dataclasses import dataclass

# A family says what a leaf category's products look like: the nouns in their
# names, their options, their attributes and their price band (USD, for the
# smallest variant).

NOTES_TOP = ["bergamot", "pink pepper", "mandarin", "neroli", "cardamom", "lemon",
             "blackcurrant", "saffron", "grapefruit", "ginger"]
NOTES_HEART = ["rose", "jasmine", "iris", "orange blossom", "lavender", "violet",
               "tuberose", "fig leaf", "magnolia", "geranium"]
NOTES_BASE = ["vetiver", "sandalwood", "amber", "musk", "oud", "patchouli", "tonka bean",
              "vanilla", "cedarwood", "leather", "benzoin", "labdanum"]
ACCORDS = ["floral", "woody", "citrus", "amber", "fresh", "spicy", "musky", "powdery",
           "aquatic", "green", "gourmand", "leather"]
SKIN_TYPES = ["dry", "oily", "combination", "sensitive", "normal"]
SKIN_INGREDIENTS = ["hyaluronic acid", "niacinamide", "vitamin C", "retinol", "ceramides",
                    "squalane", "peptides", "salicylic acid", "aloe vera", "green tea"]
HAIR_TYPES = ["curly", "fine", "thick", "coloured", "all hair types"]
HAIR_INGREDIENTS = ["argan oil", "keratin", "biotin", "coconut oil", "rosemary", "shea butter"]
FINISHES = ["matte", "satin", "dewy", "shimmer", "natural"]
SHADES = ["Porcelain", "Ivory", "Sand", "Honey", "Caramel", "Chestnut", "Espresso"]
LIP_COLOURS = ["Rosewood", "Ruby", "Coral", "Nude", "Plum", "Berry", "Cherry", "Mauve"]
EYE_COLOURS = ["Black", "Brown", "Navy", "Bronze", "Olive", "Plum"]
SCENTS = ["Unscented", "Lavender", "Citrus", "Fig", "Sea Salt", "Vanilla"]


@dataclass(frozen=True)
class Family:
    options: tuple[tuple[str, tuple[str, ...]], ...]
    price: tuple[int, int]
    # How much dearer each step along the first option is (sizes), 0 for shades.
    step: float = 0.0


FAMILIES = {
    "fragrance": Family((("Size", ("30 ml", "50 ml", "100 ml", "150 ml")),), (38, 190), 0.55),
    "set": Family((("Set", ("5 x 2 ml", "10 x 2 ml")),), (18, 45), 0.8),
    "skincare": Family((("Size", ("15 ml", "30 ml", "50 ml", "100 ml")),), (14, 95), 0.6),
    "complexion": Family((("Shade", tuple(SHADES)),), (16, 58)),
    "eyes": Family((("Colour", tuple(EYE_COLOURS)), ("Finish", ("Matte", "Shimmer"))), (9, 36)),
    "lips": Family((("Colour", tuple(LIP_COLOURS)), ("Finish", ("Matte", "Satin"))), (12, 40)),
    "hair": Family((("Size", ("250 ml", "500 ml", "1 l")),), (11, 48), 0.7),
    "body": Family((("Size", ("100 ml", "200 ml", "400 ml")), ("Scent", tuple(SCENTS))),
                   (8, 42), 0.6),
    "home": Family((("Size", ("Classic 190 g", "Large 600 g")), ("Scent", tuple(SCENTS[1:]))),
                   (24, 85), 1.2),
}

# Top level → second level → leaves (name, family).
CATEGORY_TREE: list[tuple[str, list[tuple[str, list[tuple[str, str]]]]]] = [
    ("Fragrance", [
        ("Women", [("Eau de Parfum", "fragrance"), ("Eau de Toilette", "fragrance"),
                   ("Body Mist", "fragrance")]),
        ("Men", [("Eau de Parfum", "fragrance"), ("Eau de Toilette", "fragrance"),
                 ("Aftershave", "fragrance")]),
        ("Unisex", [("Extrait de Parfum", "fragrance"), ("Cologne", "fragrance"),
                    ("Discovery Set", "set")]),
    ]),
    ("Skincare", [
        ("Face", [("Cleanser", "skincare"), ("Serum", "skincare"), ("Moisturiser", "skincare"),
                  ("Face Mask", "skincare")]),
        ("Eyes", [("Eye Cream", "skincare"), ("Eye Serum", "skincare")]),
        ("Sun Care", [("Sunscreen", "skincare"), ("After Sun", "skincare")]),
    ]),
    ("Makeup", [
        ("Face", [("Foundation", "complexion"), ("Concealer", "complexion"),
                  ("Blush", "complexion"), ("Highlighter", "complexion")]),
        ("Eyes", [("Mascara", "eyes"), ("Eyeshadow", "eyes"), ("Eyeliner", "eyes")]),
        ("Lips", [("Lipstick", "lips"), ("Lip Gloss", "lips"), ("Lip Liner", "lips")]),
    ]),
    ("Hair", [
        ("Care", [("Shampoo", "hair"), ("Conditioner", "hair"), ("Hair Mask", "hair")]),
        ("Styling", [("Hair Oil", "hair"), ("Hair Spray", "hair")]),
    ]),
    ("Bath & Body", [
        ("Bath", [("Bath Oil", "body"), ("Bath Salts", "body")]),
        ("Body", [("Body Lotion", "body"), ("Body Scrub", "body"), ("Hand Cream", "body")]),
        ("Home", [("Scented Candle", "home"), ("Room Spray", "home"), ("Diffuser", "home")]),
    ]),
]

BRANDS = ["Maison Aurore", "Atelier Sel", "Nordlys", "Casa Verde", "Lumen & Co", "Odeur Noire",
          "Petal Theory", "Saltwater Lab", "Koyo", "Velvet Fig", "Hale & Hearth", "Bruma"]
WORDS_A = ["Velvet", "Midnight", "Golden", "Wild", "Silk", "Amber", "Citrus", "Smoked", "Rose",
           "Salt", "Cedar", "Iris", "Neroli", "Fig", "Oud", "Vanilla", "Tea", "Moss", "Linen",
           "Plum", "Ivory", "Copper", "Desert", "Morning"]
WORDS_B = ["Garden", "Hour", "Dune", "Reverie", "Bloom", "Tide", "Ember", "Orchard", "Veil",
           "Atlas", "Harbour", "Nocturne", "Meadow", "Grove", "Mirage", "Glow", "Ritual", "Cloud"]
FIRST_NAMES = ["Ada", "Grace", "Alan", "Maya", "Noah", "Lea", "Omar", "Ines", "Yuki", "Sven",
               "Priya", "Tomas", "Zoe", "Luca", "Amara", "Felix", "Nina", "Kofi", "Elif", "Marta"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Okafor", "Silva", "Novak", "Haddad", "Tanaka",
              "Larsen", "Moreau", "Rossi", "Kowalski", "Nguyen", "Schmidt", "Adeyemi", "Garcia"]
REVIEW_TITLES = {
    1: ["Not for me", "Disappointed", "Faded in an hour"],
    2: ["Expected more", "Just okay", "Nice bottle, shame about the rest"],
    3: ["Decent", "Pleasant enough", "Good, not great"],
    4: ["Really nice", "Lovely everyday pick", "Would buy again"],
    5: ["Absolutely love it", "My new signature", "Perfect", "Worth every penny"],
}
REVIEW_BODIES = {
    1: ["It irritated my skin and I had to stop using it.", "Nothing like the description."],
    2: ["Fine, but it did not last as long as I hoped.", "The texture was not for me."],
    3: ["Does the job. The packaging is lovely.", "Nice, though a little pricey for the size."],
    4: ["Gets compliments every time I wear it.", "Lasts all day and feels light."],
    5: ["I have finished two bottles already.", "Beautiful from the first minute to the last.",
        "Exactly what I was looking for, fast delivery too."],
}
# How likely a product is to have 0, 1, ... 8 reviews.
REVIEW_COUNT_WEIGHTS = [20, 12, 12, 12, 10, 10, 8, 8, 8]
# Colour pairs for the generated images (top → bottom of a vertical gradient).
PALETTES = [((233, 196, 106), (231, 111, 81)), ((42, 157, 143), (38, 70, 83)),
            ((244, 162, 97), (157, 78, 221)), ((255, 183, 197), (200, 80, 120)),
            ((142, 202, 230), (33, 158, 188)), ((184, 192, 255), (90, 80, 180)),
            ((202, 210, 197), (82, 121, 111)), ((250, 225, 221), (184, 134, 11))]
