"""Activities of the async-http sample (the HTTP call itself is the built-in `http` activity)."""


def record_result(response: dict) -> dict:
    return {"status": response["status"], "result": response["body"]}
