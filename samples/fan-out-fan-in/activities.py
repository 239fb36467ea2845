"""Activities of the fan-out/fan-in sample."""


def list_files(request: dict) -> list[dict]:
    return [{"name": f"{request.get('prefix', 'photo')}-{index}.jpg", "size": 1000 * (index + 1)} for index in range(request.get("count", 5))]


def resize(file: dict) -> dict:
    return {"name": file["name"].replace(".jpg", "-small.jpg"), "size": file["size"] // 4}


def summarize(files: list[dict]) -> dict:
    return {"files": len(files), "bytes": sum(f["size"] for f in files)}
