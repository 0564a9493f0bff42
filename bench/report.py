"""Turns hyperfine's JSON exports and peak-memory readings into the benchmark table, and
checks the budgets of the README's Performance section."""
import json
import sys

results_dir = sys.argv[1]
rows = json.load(open(f"{results_dir}/rows.json"))


def stats(name):
    data = json.load(open(f"{results_dir}/{name}.json"))["results"][0]
    return data["median"] * 1000, data["min"] * 1000, data["max"] * 1000


table = []
medians = {}
for row in rows:
    median, low, high = stats(row["name"])
    medians[row["name"]] = median
    memory = row.get("peak_kb")
    table.append((row["label"], f"{median:8.2f}", f"{low:8.2f}", f"{high:8.2f}",
                  f"{memory / 1024:6.1f}" if memory else "     -"))

print(f"{'what':<58} {'median':>8} {'min':>8} {'max':>8} {'MB':>6}")
print(f"{'':<58} {'(ms)':>8} {'(ms)':>8} {'(ms)':>8} {'peak':>6}")
for label, median, low, high, memory in table:
    print(f"{label:<58} {median} {low} {high} {memory}")

checks = []
def budget(text, ok):
    checks.append((text, ok))

if "list_user" in medians:
    budget(f"listing the user API <= 5 ms ({medians['list_user']:.2f})", medians["list_user"] <= 5)
if "call_epilot" in medians and "call_curl" in medians:
    ratio = medians["call_epilot"] / medians["call_curl"]
    budget(f"one call <= 1.3 x curl ({ratio:.2f} x)", ratio <= 1.3)
if "list_largest" in medians:
    budget(f"listing the largest corpus spec <= 15 ms ({medians['list_largest']:.2f})", medians["list_largest"] <= 15)
peak = next((r.get("peak_kb") for r in rows if r["name"] == "call_epilot"), None)
if peak:
    budget(f"peak memory of a call <= 15 MB ({peak / 1024:.1f})", peak <= 15 * 1024)
if "jsonata_epilot" in medians and "jsonata_node" in medians:
    budget(f"--jsonata on 500 KB faster than node's jsonata ({medians['jsonata_epilot']:.1f} vs {medians['jsonata_node']:.1f} ms)",
           medians["jsonata_epilot"] < medians["jsonata_node"])
if "validate_500k" in medians and "no_validate_500k" in medians:
    cost = medians["validate_500k"] - medians["no_validate_500k"]
    budget(f"validating the 500 KB body <= 8 ms over --no-validate ({cost:.2f})", cost <= 8)

print("\nbudgets:")
failed = 0
for text, ok in checks:
    print(f"  {'ok  ' if ok else 'MISS'} {text}")
    failed += not ok
sys.exit(1 if failed else 0)
