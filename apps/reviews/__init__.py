"""Writing and moderating reviews. The Review model is the catalog's; a review
is a verified purchase when its author has a paid order of the product, so
the services sit here, above orders."""
