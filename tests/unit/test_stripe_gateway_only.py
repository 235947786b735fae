"""core/stripe_gateway.py is the one place that talks to Stripe's API (its docstring says so): no
other module of the application calls the stripe SDK. Types and exception classes may be named
anywhere (`except stripe.InvalidRequestError`); a call is `stripe.<anything>(...)` or a use of a
StripeClient's services (`client.v1.…`). devstack/ (the fake Stripe and its tools) and the tests
are not the application."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("activities", "api", "core", "domain", "models", "services", "workflows", "worker.py")
GATEWAY = ROOT / "core" / "stripe_gateway.py"


def _rooted_at_stripe(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "stripe"


def stripe_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _rooted_at_stripe(node.func)
        ):
            found.append(f"{where}:{node.lineno} calls {ast.unparse(node.func)}")
        elif isinstance(node, ast.Attribute) and node.attr == "v1":
            found.append(f"{where}:{node.lineno} uses {ast.unparse(node)}")
    return found


def application_modules() -> list[Path]:
    modules: list[Path] = []
    for name in APPLICATION:
        location = ROOT / name
        modules += [location] if location.is_file() else sorted(location.rglob("*.py"))
    return [module for module in modules if module != GATEWAY]


def test_the_check_sees_a_call_of_the_sdk(tmp_path: Path) -> None:
    module = tmp_path / "bypass.py"
    module.write_text(
        "import stripe\n\n"
        "async def f(client, exc: stripe.StripeError):\n"
        "    stripe.Webhook.construct_event(1, 2, 3)\n"
        "    await client.v1.refunds.create_async({})\n"
    )
    assert sorted(call.split(" ", 1)[1] for call in stripe_calls(module)) == [
        "calls stripe.Webhook.construct_event",
        "uses client.v1",
    ]


def test_only_the_gateway_calls_stripe() -> None:
    modules = application_modules()
    assert len(modules) > 50, "the walk found too few modules to prove anything"
    assert [call for module in modules for call in stripe_calls(module)] == []
