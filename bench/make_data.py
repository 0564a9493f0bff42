"""Writes the benchmark's data files: me.json (the reference getMeV2 sample), items.json and
body.json (~500 KB each, valid for bench/fixtures/bulk.yaml)."""
import json
import sys
import uuid

out = sys.argv[1]
me = {
    "id": "string", "organization_id": "string", "created_at": "1970-01-01T00:00:00.000Z",
    "display_name": "Example User", "status": "Active", "email": "user@example.com",
    "phone": 1234567890, "mfa_enabled": False, "preferred_language": "de",
    "feature_preferences": {"feature_name": True},
    "image_uri": {"original": "https://account-profile-images.epilot.cloud/1/avatar.png"},
    "properties": [{"name": "profileImageName", "value": "avatar.png"}],
}
items = []
i = 0
while len(json.dumps({"items": items})) < 500_000:
    items.append({
        "id": str(uuid.UUID(int=i)), "name": f"Item number {i}", "email": f"owner{i}@example.com",
        "price": round(i * 1.25, 2), "quantity": i % 17, "status": ["draft", "live", "archived"][i % 3],
        "created_at": "2024-02-08T04:44:32.246Z", "tags": ["a", "b", f"t{i % 5}"], "note": None,
    })
    i += 1
json.dump(me, open(f"{out}/me.json", "w"))
json.dump({"items": items}, open(f"{out}/items.json", "w"))
json.dump({"items": items}, open(f"{out}/body.json", "w"))
print(len(items))
