"""The payment gateway interface: the dummy gateway's outcomes, the registry
of enabled gateways, paymentGateways through the endpoint, and a gateway
added by settings alone."""

import inspect
import pathlib

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from graphql import (
    DocumentNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    print_ast,
    validate,
)

from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import Money
from apps.payments import registry
from apps.payments.gateways import (
    ChargeResult,
    ChargeStatus,
    PaymentGateway,
    RefundResult,
    RefundStatus,
)
from apps.payments.gateways import dummy
from commerce.startup import refuse_broken_payment_gateways
from tests.conftest import error_codes
from tests.contract import document
from tests.fake_gateway import FakeGateway

FAKE = "tests.fake_gateway.FakeGateway"

PAYMENT_GATEWAYS = """
query PaymentGateways {
  paymentGateways { id name config { field value } }
}
"""


def charge(gateway: PaymentGateway, token: str, key: str = "order-1-attempt-1") -> ChargeResult:
    return gateway.charge(amount=Money.of("12.50", "USD"), token=token,
                          reference="1001", idempotency_key=key)


# --- The dummy gateway ---------------------------------------------------------------


def test_dummy_success_pays_at_once():
    result = charge(dummy.Gateway(), "success")
    assert result.status == ChargeStatus.SUCCEEDED
    assert result.reference.startswith("dummy_ch_")
    assert result.client_secret is None
    # The same idempotency key answers the same charge; another key another one.
    assert charge(dummy.Gateway(), "success").reference == result.reference
    assert charge(dummy.Gateway(), "success", key="order-2").reference != result.reference


def test_dummy_decline_is_declined_with_a_message():
    result = charge(dummy.Gateway(), "decline")
    assert result.status == ChargeStatus.DECLINED
    assert result.message == "The card was declined."
    assert result.client_secret is None


@pytest.mark.parametrize("token", ["", "SUCCESS", "success ", "tok_visa", "declined"])
def test_dummy_refuses_any_other_token_as_invalid(token):
    with pytest.raises(ServiceError) as refused:
        charge(dummy.Gateway(), token)
    [error] = refused.value.errors
    assert (error.code, error.field) == (ErrorCode.INVALID, "token")
    assert '"success"' in error.message and '"decline"' in error.message


def test_dummy_refunds_and_cancels():
    gateway = dummy.Gateway()
    paid = charge(gateway, "success")
    refund = gateway.refund(charge_reference=paid.reference, amount=Money.of("5", "USD"),
                            idempotency_key="refund-1")
    assert refund.status == RefundStatus.SUCCEEDED and refund.reference.startswith("dummy_re_")
    again = gateway.refund(charge_reference=paid.reference, amount=Money.of("5", "USD"),
                           idempotency_key="refund-2")
    assert again.reference != refund.reference  # each refund its own
    assert gateway.cancel(charge_reference=paid.reference) is None
    assert gateway.public_config() == []


def test_results_cannot_be_made_incomplete():
    with pytest.raises(ValueError):
        ChargeResult(ChargeStatus.SUCCEEDED)  # no reference
    with pytest.raises(ValueError):
        ChargeResult(ChargeStatus.PENDING, reference="pi_1")  # no client secret
    with pytest.raises(ValueError):
        ChargeResult(ChargeStatus.DECLINED)  # no reason
    with pytest.raises(ValueError):
        RefundResult(RefundStatus.FAILED)
    assert ChargeResult.pending(reference="pi_1", client_secret="s").client_secret == "s"


# --- The protocol ---------------------------------------------------------------------


def keyword_signature(function) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()
            if p.name != "self"]


@pytest.mark.parametrize("gateway_class", [dummy.Gateway, FakeGateway], ids=["dummy", "fake"])
def test_gateways_follow_the_protocol(gateway_class):
    gateway = gateway_class()
    assert isinstance(gateway, PaymentGateway)
    for method in ("public_config", "charge", "refund", "cancel"):
        # The same keyword-only parameters as the protocol, so a caller written
        # against the protocol calls every gateway the same way.
        assert keyword_signature(getattr(gateway_class, method)) == keyword_signature(
            getattr(PaymentGateway, method)), method
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY
               for p in inspect.signature(gateway_class.charge).parameters.values()
               if p.name != "self")


# --- The registry ---------------------------------------------------------------------


def test_dummy_is_enabled_by_default():
    assert [gateway.id for gateway in registry.enabled_gateways()] == ["dummy"]
    assert isinstance(registry.gateway_named("dummy"), dummy.Gateway)


@pytest.mark.parametrize("name", ["stripe", "fake", "", "Dummy", "apps.payments.gateways.dummy"])
def test_a_gateway_not_enabled_is_invalid(name):
    with pytest.raises(ServiceError) as refused:
        registry.gateway_named(name)
    [error] = refused.value.errors
    assert (error.code, error.field) == (ErrorCode.INVALID, "gateway")
    assert "enabled: dummy" in error.message


def test_the_caller_names_the_field(settings):
    settings.PAYMENT_GATEWAYS = []
    with pytest.raises(ServiceError) as refused:
        registry.gateway_named("dummy", field="payment.gateway")
    [error] = refused.value.errors
    assert error.field == "payment.gateway" and "enabled: none" in error.message


def test_a_gateway_plugs_in_by_settings_alone(settings):
    settings.PAYMENT_GATEWAYS = [FAKE, "dummy"]
    assert [gateway.id for gateway in registry.enabled_gateways()] == ["fake", "dummy"]
    fake = registry.gateway_named("fake")
    result = charge(fake, "anything")
    assert result.status == ChargeStatus.PENDING and result.client_secret
    # A gateway left out of the setting is refused, built in or not.
    settings.PAYMENT_GATEWAYS = [FAKE]
    with pytest.raises(ServiceError):
        registry.gateway_named("dummy")


def gateway_problems() -> list[str]:
    return [message.id for message in checks.run_checks() if message.id.startswith("payments.")]


def test_start_up_refuses_a_setting_that_does_not_load(settings):
    assert gateway_problems() == []
    settings.PAYMENT_GATEWAYS = ["dummy", "nope", "tests.fake_gateway.NotAGateway",
                                 "tests.fake_gateway.Missing", FAKE, FAKE]
    assert gateway_problems() == ["payments.E001"] * 3 + ["payments.E002"]


def test_deploy_check_warns_of_the_dummy_gateway(settings):
    deploy = [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "payments.W001" in deploy
    settings.PAYMENT_GATEWAYS = [FAKE]
    deploy = [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "payments.W001" not in deploy


# --- Through the endpoint -------------------------------------------------------------


def test_payment_gateways_lists_dummy_for_anyone(db, client, customer_client):
    expected = {"paymentGateways": [{"id": "dummy", "name": "Dummy", "config": []}]}
    assert client.execute(PAYMENT_GATEWAYS) == expected
    assert customer_client.execute(PAYMENT_GATEWAYS) == expected


def test_payment_gateways_shows_public_config_in_setting_order(db, client, settings):
    settings.PAYMENT_GATEWAYS = ["dummy", FAKE]
    assert client.execute(PAYMENT_GATEWAYS)["paymentGateways"] == [
        {"id": "dummy", "name": "Dummy", "config": []},
        {"id": "fake", "name": "Fake cards", "config": [
            {"field": "publishableKey", "value": "pk_test_fake"},
            {"field": "accountCountry", "value": None},
        ]},
    ]


def test_payment_gateways_with_none_enabled_is_an_empty_list(db, client, settings):
    settings.PAYMENT_GATEWAYS = []
    result = client.post(PAYMENT_GATEWAYS)
    assert result == {"data": {"paymentGateways": []}}
    assert error_codes(result) == []


@pytest.mark.parametrize("enabled", [["dummy"], ["dummy", FAKE]], ids=["one", "two"])
def test_payment_gateways_runs_no_query(db, client, settings, enabled,
                                        django_assert_num_queries):
    settings.PAYMENT_GATEWAYS = enabled
    with django_assert_num_queries(0):
        assert len(client.execute(PAYMENT_GATEWAYS)["paymentGateways"]) == len(enabled)


def test_the_contract_operation_validates_and_answers(db, client):
    """cart.graphql's PaymentGateways alone (the rest of the file comes with the
    cart; the contract test keeps the whole file an expected failure), against
    the printed schema and then through the endpoint."""
    full = parse(document("storefront/cart.graphql"))
    mine = DocumentNode(definitions=tuple(
        d for d in full.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == "PaymentGateways"
    ))
    assert len(mine.definitions) == 1
    printed = build_schema((pathlib.Path(__file__).resolve().parents[1] / "graphql_schema.graphql").read_text())
    assert validate(printed, mine) == []
    assert client.execute(print_ast(mine))["paymentGateways"][0]["id"] == "dummy"


def test_payment_input_is_what_api_md_lists():
    import strawberry

    from schema.payments.inputs import PaymentInput

    @strawberry.type
    class Probe:
        @strawberry.field
        def pay(self, payment: PaymentInput) -> bool:
            return bool(payment.gateway and payment.token)

    printed = str(strawberry.Schema(query=Probe))
    assert "input PaymentInput {" in printed
    body = printed.split("input PaymentInput {")[1].split("}")[0]
    fields = [line.strip() for line in body.splitlines()
              if line.strip() and not line.strip().startswith('"')]
    assert fields == ["gateway: String!", "token: String!"]


def test_a_server_refuses_to_start_on_a_gateway_that_does_not_load(settings):
    refuse_broken_payment_gateways()
    settings.PAYMENT_GATEWAYS = ["dummy", "strype"]
    with pytest.raises(ImproperlyConfigured, match="'strype' does not load"):
        refuse_broken_payment_gateways()
