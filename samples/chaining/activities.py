"""Activities of the chaining sample: plain functions of their input."""


def validate_order(order: dict) -> dict:
    if not order.get("items"):
        raise ValueError("an order needs at least one item")
    total = sum(item["price"] * item.get("quantity", 1) for item in order["items"])
    return {**order, "total": round(total, 2)}


def charge(order: dict) -> dict:
    return {**order, "receipt": f"ch_{order['id']}_{int(order['total'] * 100)}"}


def ship(order: dict) -> dict:
    return {"order": order["id"], "receipt": order["receipt"], "status": "shipped"}
