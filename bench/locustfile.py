"""The load test's shoppers (`make loadtest`; run by bench/loadtest.py in
.venv-load, Locust's own virtualenv).

Plain HTTP with the storefront's own documents: nothing from Django is
imported here, so gevent never meets the server's code. bench/loadtest.py
writes what a shopper needs to the JSON file named by LOADTEST_DATA:
`documents` (operation name -> text, as the storefront sends it), product
and category slugs, search words, variant ids (plenty of stock, and a few
"hot" ones with little), demo customers and their password. At the end the
outcomes that are not requests (checkouts completed, sold out) go to the
JSON file named by LOADTEST_OUTCOMES.

A request is named by its GraphQL operation. It fails on a status other than
200, a top-level `errors` entry or a payload `errors` entry, except
INSUFFICIENT_STOCK: a sold-out variant is what a shop expects under load, so
it counts as "sold out" and not as a failure.
"""

import itertools
import json
import os
import random
import time
from collections import Counter

from locust import HttpUser, between, events, task

DATA = json.loads(open(os.environ["LOADTEST_DATA"]).read())
DOCUMENTS: dict[str, str] = DATA["documents"]
ADDRESS = {
    "firstName": "Load", "lastName": "Tester", "streetAddress1": "1 Load Street",
    "city": "Springfield", "postalCode": "62701", "countryArea": "IL", "country": "US",
}
TOKEN_LIFETIME = 240  # seconds before a signed-in shopper signs in again (tokens last 300)
OUTCOMES: Counter[str] = Counter()
CUSTOMERS = itertools.count()


class Refused(Exception):
    """A payload error the shopper cannot go on from (already reported)."""


class Shopper(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        # Each shopper its own customer, so that two never share a cart.
        customers = DATA["customers"]
        self.customer = customers[next(CUSTOMERS) % len(customers)] if customers else None
        self.jwt: str | None = None
        self.signed_in_at = 0.0

    # --- The mix: browse and search 80 %, cart 15 %, checkout 5 % ---------------------

    @task(80)
    def browse(self) -> None:
        kind = random.choice(["list", "search", "category", "detail"])
        if kind == "list":
            after = None
            for _ in range(random.randint(1, 3)):  # a page, then the next by its cursor
                data = self.call("ProductList", {"first": 20, "after": after})
                page = data and data["products"]["pageInfo"]
                if not page or not page["hasNextPage"]:
                    break
                after = page["endCursor"]
        elif kind == "search":
            self.call("ProductList", {"first": 20,
                                      "filters": {"search": random.choice(DATA["words"])}})
        elif kind == "category":
            self.call("CategoryTree", {})
            self.call("CategoryPage", {"slug": random.choice(DATA["categories"]), "first": 20})
        else:
            self.call("ProductDetail", {"slug": random.choice(DATA["products"])})

    @task(15)
    def cart(self) -> None:
        try:
            cart = self.cart_create(random.choice(DATA["variants"]))
            cart = self.mutate("CartLinesAdd", {"token": cart["token"], "lines": [
                {"variantId": random.choice(DATA["variants"]), "quantity": 1}]})
            self.mutate("CartLinesUpdate", {"token": cart["token"], "lines": [
                {"lineId": cart["lines"][0]["id"], "quantity": random.randint(1, 3)}]})
        except Refused:
            pass

    @task(5)
    def checkout(self) -> None:
        signed_in = self.customer is not None and random.random() < 0.5
        if signed_in:
            self.sign_in()
        pool = DATA["hot"] if random.random() < 0.5 else DATA["variants"]
        try:
            cart = self.cart_create(random.choice(pool), signed_in=signed_in)
            token = cart["token"]
            cart = self.mutate("CartShippingAddressUpdate", {"token": token, "address": ADDRESS},
                               signed_in=signed_in)
            methods = cart["availableShippingMethods"]
            if not methods:
                self.fail_now("CartShippingAddressUpdate", "no shipping method for the address")
            self.mutate("CartShippingMethodUpdate",
                        {"token": token, "shippingMethodId": methods[0]["id"]},
                        signed_in=signed_in)
            payload = self.call("CheckoutComplete", {
                "token": token, "payment": {"gateway": "dummy", "token": "success"},
            }, payload="checkoutComplete", signed_in=signed_in)
        except Refused:
            return
        if payload is not None and payload.get("order"):
            OUTCOMES["checkouts completed"] += 1

    # --- Requests ----------------------------------------------------------------------

    def sign_in(self) -> None:
        if self.jwt and time.monotonic() - self.signed_in_at < TOKEN_LIFETIME:
            return
        payload = self.call("TokenAuth", {"email": self.customer,
                                          "password": DATA["password"]}, payload="tokenAuth")
        if payload and payload.get("token"):
            self.jwt, self.signed_in_at = payload["token"], time.monotonic()

    def cart_create(self, variant: str, *, signed_in: bool = False) -> dict:
        return self.mutate("CartCreate", {"input": {
            "email": self.customer or "guest@load.example",
            "lines": [{"variantId": variant, "quantity": 1}],
        }}, signed_in=signed_in)

    def mutate(self, name: str, variables: dict, *, signed_in: bool = False) -> dict:
        """The cart of a cart mutation's payload; Refused when there is none."""
        field = name[0].lower() + name[1:]
        payload = self.call(name, variables, payload=field, signed_in=signed_in)
        if not payload or not payload.get("cart"):
            raise Refused(name)
        return payload["cart"]

    def call(self, name: str, variables: dict, *, payload: str | None = None,
             signed_in: bool = False) -> dict | None:
        """`data` (or data[payload] for a mutation); None after a failure or
        a sold-out answer, which are already counted."""
        headers = {"Content-Type": "application/json"}
        if signed_in and self.jwt:
            headers["Authorization"] = f"Bearer {self.jwt}"
        body = json.dumps({"operationName": name, "query": DOCUMENTS[name],
                           "variables": variables})
        with self.client.post("/graphql/", data=body, headers=headers, name=name,
                              catch_response=True) as response:
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            if response.status_code != 200 or answer.get("errors") or not answer.get("data"):
                response.failure(f"{response.status_code} {str(answer)[:300]}")
                return None
            data = answer["data"]
            if payload is None:
                return data
            codes = [error["code"] for error in (data[payload] or {}).get("errors") or []]
            if codes and set(codes) == {"INSUFFICIENT_STOCK"}:
                OUTCOMES["sold out"] += 1
                OUTCOMES[f"sold out: {name}"] += 1
                return None
            if codes:
                response.failure(f"{name}: {data[payload]['errors']}")
                return None
            return data[payload]

    def fail_now(self, name: str, message: str) -> None:
        events.request.fire(request_type="POST", name=name, response_time=0,
                            response_length=0, exception=Exception(message))
        raise Refused(name)


@events.quitting.add_listener
def _write_outcomes(environment, **_kwargs) -> None:
    path = os.environ.get("LOADTEST_OUTCOMES")
    if path:
        with open(path, "w") as out:
            json.dump(dict(OUTCOMES), out)
